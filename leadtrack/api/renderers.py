"""The API's JSON renderer: DRF's output, written by orjson.

DRF's renderer runs ``json.dumps`` with a Python ``default`` for every datetime, Decimal and lazy
string; a page of 50 leads has about 200 datetimes, and writing it took longer than reading the
page from PostgreSQL. orjson writes the same text in C:

- datetimes as DRF does (``isoformat()``, ``+00:00`` as ``Z``: OPT_UTC_Z), dates and times too;
- every other type through DRF's own encoder (Decimal as a number, timedelta, lazy strings…),
  which still refuses what it does not know;
- non-string keys as strings, as ``json.dumps`` does; U+2028 and U+2029 escaped, as DRF does.

What orjson cannot write the same way goes to DRF's renderer: a requested indent
(``Accept: application/json; indent=4``) and integers beyond 64 bits.

drf-orjson-renderer was looked at and not taken: its fallback turns Decimals into strings and
types it does not know into null, which would change what the API answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_DEFAULT = JSONEncoder().default


class JSONRenderer(DrfJSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = orjson.dumps(data, default=_DEFAULT, option=_OPTIONS)
        except orjson.JSONEncodeError as exc:
            if isinstance(exc.__cause__, TypeError | ValueError):
                raise exc.__cause__ from None  # DRF's encoder refused a value: the same error as before
            return super().render(data, accepted_media_type, renderer_context)
        # JSON allows them raw, JavaScript before ES2019 did not (DRF's reason for escaping them).
        return text.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
