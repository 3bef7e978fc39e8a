"""leadtrack.pgarrays: what PostgreSQL reads from the literal is what was written, for every element
type the set-based writes send (text with quotes, backslashes, braces, commas, "NULL" and empty
strings; NULL; bigint; boolean; timestamptz with offsets; jsonb; uuid; inet)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection

from leadtrack.pgarrays import array_literal

TEXTS = [
    "plain",
    "",
    "NULL",
    "null",
    'say "hi"',
    "back\\slash",
    "\\",
    '\\"',
    "{braces}",
    "a,b",
    " padded ",
    "tab\tand\nnewline",
    "ünïcødé ✓",
    "'single'",
    None,
]


def _read_back(literal: str, cast: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}", [literal])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "cast"),
    [
        (TEXTS, "text[]"),
        ([0, 1, -1, 2**63 - 1, -(2**63), None], "bigint[]"),
        ([True, False, None], "boolean[]"),
        ([Decimal("12.50"), Decimal("-0.01"), None], "numeric[]"),
        (
            [
                datetime(2025, 3, 30, 1, 59, 59, 999999, tzinfo=UTC),
                datetime(2025, 10, 26, 2, 30, tzinfo=timezone(timedelta(hours=2))),
                datetime(2024, 2, 29, 23, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
                None,
            ],
            "timestamptz[]",
        ),
        ([uuid.UUID("12345678-1234-5678-1234-567812345678"), None], "uuid[]"),
    ],
)
def test_postgresql_reads_back_the_values_written(values, cast):
    assert _read_back(array_literal(values), cast) == values


@pytest.mark.django_db
def test_json_documents_and_addresses_arrive_as_written():
    documents = [{"fields": ["company", "email"]}, {"quote": 'a "b" \\ c', "n": None}, []]
    read = _read_back(array_literal(json.dumps(d) for d in documents), "jsonb[]")
    assert [json.loads(d) if isinstance(d, str) else d for d in read] == documents
    assert _read_back(array_literal(["192.0.2.0", "2001:db8::", None]), "inet[]") == [
        "192.0.2.0",
        "2001:db8::",
        None,
    ]


def test_an_empty_iterable_is_an_empty_array():
    assert array_literal([]) == "{}"
    assert array_literal(iter(())) == "{}"


@pytest.mark.django_db
def test_a_column_of_one_repeated_object_reads_back_like_any_other():
    moment = datetime(2025, 10, 26, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    text = 'a "b" {c}, d'
    assert _read_back(array_literal([moment] * 3), "timestamptz[]") == [moment] * 3
    assert _read_back(array_literal((text,) * 2), "text[]") == [text] * 2
    assert _read_back(array_literal([None] * 2), "bigint[]") == [None] * 2
    assert array_literal([moment] * 2) == array_literal([moment, moment.replace()])


def test_equal_values_of_different_types_keep_their_own_text():
    # 1 == True and the same instant in two zones compare equal: only the same object is repeated.
    assert array_literal([True, 1]) == "{t,1}"
    utc = datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert array_literal([utc, utc.astimezone(timezone(timedelta(hours=1)))]) == (
        '{"2025-01-01T12:00:00+00:00","2025-01-01T13:00:00+01:00"}'
    )
