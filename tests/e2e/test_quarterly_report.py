"""A marketing manager opens the demo's Q2 2025 referral report, downloads it, then looks at Q1 2025."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from leadtrack.accounts.models import User
from leadtrack.tenancy.demo import DEMO_PASSWORD
from tests.e2e.conftest import pass_second_factor


def test_manager_reads_and_downloads_the_quarterly_referral_report(page, transactional_db):
    call_command("seed_demo", quiet_logins=True, stdout=StringIO())
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("manager@robotix.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, User.objects.get(email="manager@robotix.example"))

    page.goto("/o/robotix/")
    page.get_by_role("link", name="Referral report").click()
    page.goto("/o/robotix/reports/referrals/2025-Q2/")
    assert page.get_by_role("heading", name="Robotix - Q2 2025").is_visible()
    monthly = page.locator('table[data-table="monthly"]')
    assert monthly.locator("tbody tr").first.inner_text().split() == ["April", "245", "86", "22", "8"]
    assert page.locator('table[data-table="sources"]').get_by_text("$380").is_visible()
    assert page.locator('table[data-table="campaigns"]').get_by_text("315%").is_visible()
    chart = page.locator("#monthly-chart svg")
    assert chart.is_visible()
    assert chart.locator("rect.bar").count() == 12
    assert chart.bounding_box()["height"] > 100

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF").click()
    pdf = pdf_download.value
    assert pdf.suggested_filename == "robotix-2025-Q2-referral-report.pdf"
    assert pdf.path().read_bytes().startswith(b"%PDF")
    with page.expect_download() as md_download:
        page.get_by_role("link", name="Markdown").click()
    markdown = md_download.value.path().read_text(encoding="utf-8")
    assert "| June | 378 | 142 | 35 | 14 |" in markdown

    page.get_by_role("link", name="← Q1 2025").click()
    page.wait_for_url("**/2025-Q1/")
    assert page.get_by_role("heading", name="Robotix - Q1 2025").is_visible()
    previous = page.get_by_test_id("previous-quarter")
    assert "Q4 2024" in previous.inner_text() and "no data" in previous.inner_text()
    assert page.locator('table[data-table="monthly"] tbody tr').first.inner_text().split()[:2] == [
        "January",
        "221",
    ]
