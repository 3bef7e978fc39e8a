"""Arrays sent to PostgreSQL as one text literal, for the set-based writes (``unnest(%s::bigint[], …)``).

psycopg2 sends a Python list as ``ARRAY['…'::timestamptz, …]``: one expression per element, which
the server parses and folds one by one. An import chunk's audit rows are 11 columns by 10,000 rows;
sent that way their INSERT took 244 ms, sent as one literal per column (``'{…}'``, read by the
element type's own input function) 85 ms. The cast in the statement names the element type, as
before; this module only writes the literal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
    # Quoted, so that "NULL", "", commas, braces and spaces stay text; inside quotes only the
    # quote and the backslash are escaped.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Iterable[Any]) -> str:
    """``values`` as a PostgreSQL array literal (``{1,NULL,"a b"}``), for a ``%s::<type>[]`` parameter.

    None is NULL; booleans, integers, datetimes (ISO 8601, with their offset) and anything else by
    its text. One dimension only.
    """
    values = values if isinstance(values, list | tuple) else list(values)
    if values and all(value is values[0] for value in values):
        # A column that holds one object in every row (a batch's organization, time, action or
        # actor): its text is written once. Identity, not equality: 1 == True, and equal datetimes
        # in two zones or Decimals of two scales have different texts.
        return "{" + ",".join([_element(values[0])] * len(values)) + "}"
    return "{" + ",".join(map(_element, values)) + "}"
