"""The API's renderer (orjson) answers what DRF's JSONRenderer answered, byte for byte; the lead
list, which leaves its datetimes to the renderer, writes each lead as the detail endpoint does."""

from __future__ import annotations

import datetime
import decimal
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from leads.api.serializers import lead_instance_json
from leads.models import Lead
from leadtrack.api.renderers import JSONRenderer
from leadtrack.tenancy.context import tenant_context

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

CASES = {
    "plain values and escapes": {"a": 1, "b": [1.5, None, True], "c": "é\u2028x\u2029\x00", "e": "<>&'"},
    "utc datetime": datetime.datetime(2025, 1, 1, tzinfo=UTC),
    "utc datetime with microseconds": datetime.datetime(2025, 1, 1, 1, 2, 3, 456, tzinfo=UTC),
    "zoneinfo UTC": datetime.datetime(2025, 3, 1, tzinfo=zoneinfo.ZoneInfo("UTC")),
    "zero offset that is not UTC": datetime.datetime(2025, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/London")),
    "other offset": datetime.datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=BERLIN),
    "naive datetime": datetime.datetime(2025, 1, 1, 8, 30),
    "date and time": {"date": datetime.date(2025, 2, 3), "time": datetime.time(4, 5, 6, 7)},
    "decimal, timedelta, uuid": {
        "x": decimal.Decimal("1.50"),
        "t": datetime.timedelta(hours=1),
        "u": uuid.UUID(int=5),
    },
    "non-string keys": {1: "one", 2.5: "two and a half", None: "none", False: "no"},
    "lazy string": {"label": gettext_lazy("Leads")},
    "serializer dict keeps its order": ReturnDict({"z": 1, "a": 2}, serializer=None),
    "set": {"s": {1}},
    "integer beyond 64 bits": [2**70],
    "large float": {"f": 1e300},
    "nested": {"k": [{"d": datetime.datetime(2025, 6, 1, tzinfo=BERLIN), "n": [[], {}]}]},
    "unknown type": {"o": object()},
    "range": {"r": range(3)},
    "none": None,
}


def _render(renderer, data, media_type=None):
    try:
        return renderer.render(data, media_type)
    except Exception as exc:  # the refusal itself is what is compared
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
def test_orjson_writes_what_drf_wrote(data):
    assert _render(JSONRenderer(), data) == _render(DrfJSONRenderer(), data)


def test_a_requested_indent_is_honoured():
    data = {"a": [1, {"b": datetime.datetime(2025, 1, 1, tzinfo=UTC)}]}
    media_type = "application/json; indent=4"
    assert JSONRenderer().render(data, media_type) == DrfJSONRenderer().render(data, media_type)
    assert b'\n    "a"' in JSONRenderer().render(data, media_type)


def test_the_list_writes_a_lead_as_the_detail_and_the_webhooks_do(acme_api, org):
    created = acme_api.post(
        "/api/v1/leads/",
        {"company": "Dates GmbH", "email": "d@dates.example", "country": "DE", "expected_amount": 1200},
        format="json",
    )
    assert created.status_code == 201, created.json()
    lead_id = created.json()["id"]
    with tenant_context(org):
        Lead.objects.filter(pk=lead_id).update(
            reached_mql_at=datetime.datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
            reached_sql_at=datetime.datetime(2025, 5, 7, tzinfo=UTC),
            first_contacted_at=datetime.datetime(2025, 5, 6, 7, 8, 9, 1, tzinfo=BERLIN),
        )
        webhook_lead = lead_instance_json(Lead.objects.get(pk=lead_id))

    listed = acme_api.get("/api/v1/leads/").json()["results"]
    detail = acme_api.get(f"/api/v1/leads/{lead_id}/").json()

    assert [lead for lead in listed if lead["id"] == lead_id] == [detail]
    assert detail == webhook_lead
    assert list(listed[0]) == list(detail)  # the same fields, in the same order
    assert detail["reached_mql_at"] == "2025-05-06T07:08:09.123456Z"
    assert detail["reached_sql_at"] == "2025-05-07T00:00:00Z"
    assert detail["first_contacted_at"] == "2025-05-06T05:08:09.000001Z"  # stored in UTC
    assert detail["country"] == "DE"
