"""Exports of the filtered lead list: formula injection neutralised (I4), filters and visibility honoured."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from leads.exports import FORMULA_PREFIXES, HEADERS
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

PAYLOADS = {
    "company": '=HYPERLINK("http://evil.example","Click")',
    "contact_name": "+cmd|' /C calc'!A0",
    "job_title": "-2+3",
    "phone": "\t=1+1",
    "notes": "@SUM(1,1)\r\n=2+2",
    "external_id": "\r=3",
}


def _url(name: str, org, query: str = "") -> str:
    return reverse(name, kwargs={"org_slug": org.slug}) + (f"?{query}" if query else "")


def _csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def hostile_lead(org, mike):
    return make_lead(
        org, owner=mike, employees=250, expected_amount=123456, email="x@evil.example", **PAYLOADS
    )


def test_csv_export_neutralises_formulas_and_keeps_numbers(org, mike, login, hostile_lead):
    response = login(mike).get(_url("lead_export_csv", org))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    [row] = _csv_rows(response)
    live_formulas = [value for value in row.values() if value.startswith(FORMULA_PREFIXES)]
    assert live_formulas == []
    for field, payload in PAYLOADS.items():
        assert row[field] == "'" + payload
    assert (row["employees"], row["expected_amount"], row["email"]) == ("250", "1234.56", "x@evil.example")


def test_xlsx_export_writes_text_as_strings_never_formulas(org, mike, login, hostile_lead):
    response = login(mike).get(_url("lead_export_xlsx", org))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
    xml = b"".join(archive.read(name) for name in sheets).decode()
    assert len(re.findall(r"<f[ >]", xml)) == 0  # no live formula anywhere
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert header == HEADERS
    values = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    for field, payload in PAYLOADS.items():
        assert values[field].data_type == "s"
        assert values[field].value.replace("\r\n", "\n").replace("\r", "\n") == payload.replace(
            "\r\n", "\n"
        ).replace("\r", "\n")
    assert values["employees"].data_type == "n" and values["employees"].value == 250
    assert Decimal(str(values["expected_amount"].value)) == Decimal("1234.56")
    assert sum(1 for cell in sheet.iter_rows() for c in cell if c.data_type == "f") == 0


def test_exports_honour_the_list_filters(org, mike, login):
    make_lead(org, company="Alpha Robotics", email="a@alpha.example", country="DE")
    make_lead(org, company="Beta Foods", email="b@beta.example", country="US")
    client = login(mike)
    assert [r["company"] for r in _csv_rows(client.get(_url("lead_export_csv", org, "q=alpha")))] == [
        "Alpha Robotics"
    ]
    assert [
        r["company"] for r in _csv_rows(client.get(_url("lead_export_csv", org, "region=north_america")))
    ] == ["Beta Foods"]
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(_url("lead_export_xlsx", org, "country=DE")).content)
    )
    assert [row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True)] == ["Alpha Robotics"]


def test_exports_honour_visibility_and_tenancy(org, other_org, mike, bob, vera, charlie, login):
    make_lead(org, company="Bob's lead", owner=bob)
    make_lead(org, company="Mike's lead", owner=mike)
    make_lead(other_org, company="Globex secret")
    companies = {r["company"] for r in _csv_rows(login(mike).get(_url("lead_export_csv", org)))}
    assert companies == {"Bob's lead", "Mike's lead"}
    assert [r["company"] for r in _csv_rows(login(bob).get(_url("lead_export_csv", org)))] == ["Bob's lead"]
    # Viewers may not export; outsiders do not learn the organization exists.
    assert login(vera).get(_url("lead_export_csv", org)).status_code == 403
    assert login(charlie).get(_url("lead_export_xlsx", org)).status_code == 404


def test_csv_export_streams_more_than_one_page(org, mike, login, monkeypatch):
    from leads import exports

    monkeypatch.setattr(exports, "EXPORT_CHUNK_ROWS", 3)
    with tenant_context(org):
        for n in range(8):
            Lead.objects.create(organization=org, company=f"Firm {n}")
    rows = _csv_rows(login(mike).get(_url("lead_export_csv", org)))
    assert len(rows) == 8 and len({r["id"] for r in rows}) == 8
