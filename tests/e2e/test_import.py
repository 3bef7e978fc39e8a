"""A manager imports a 1,000-row Salesforce-style CSV with 3 bad rows, in a real browser."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from tests.leads.imports.helpers import SALESFORCE_BAD_ROWS, salesforce_csv


def test_a_manager_imports_a_salesforce_csv_and_gets_exactly_the_bad_rows(page, login_as, mike, org):
    login_as(mike)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import leads")).to_be_visible()
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(
        {"name": "salesforce-leads.csv", "mimeType": "text/csv", "buffer": salesforce_csv(1000)}
    )
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Map columns of salesforce-leads.csv")).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_value("email")
    expect(page.get_by_label("CreatedDate")).to_have_value("created_at")
    page.get_by_label("Title", exact=True).select_option("job_title")
    page.get_by_label("OwnerId").select_option("")
    page.get_by_role("button", name="Preview the import (dry run)").click()

    expect(page.get_by_role("heading", name="Errors (3)")).to_be_visible()
    error_rows = page.locator("#dry-run-errors tbody tr")
    expect(error_rows).to_have_count(3)
    expected = [(str(row), column) for row, (column, _) in sorted(SALESFORCE_BAD_ROWS.items())]
    seen = [
        (r.locator("td").nth(0).inner_text(), r.locator("td").nth(1).inner_text()) for r in error_rows.all()
    ]
    assert seen == expected
    expect(page.locator("[data-count=create]")).to_have_text("997")
    with tenant_context(org):
        assert Lead.objects.count() == 0

    page.get_by_role("button", name="Import 997 rows").click()
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-field=status_label]")).to_have_text("Done")
    expect(page.locator("[data-field=created]")).to_have_text("997")
    expect(page.locator("[data-field=errors]")).to_have_text("3")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the error report (CSV)").click()
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(report)))
    assert [(r["row"], r["column"]) for r in rows] == expected
    with tenant_context(org):
        assert Lead.objects.count() == 997
    assert page.dialogs == []
