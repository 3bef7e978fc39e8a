"""A manager filters the funnel to partner referrals in Q2 2025, clicks a number, downloads the CSV."""

from __future__ import annotations

from leadtrack.tenancy.context import tenant_context
from reports.services import snapshot_recompute
from tests.e2e.conftest import ARTIFACTS
from tests.reports.conftest import build_funnel


def test_manager_filters_clicks_through_and_downloads(page, login_as, org, mike, transactional_db):
    build_funnel(org, mike)
    with tenant_context(org):
        snapshot_recompute(org=org)
    login_as(mike)
    page.goto(f"/o/{org.slug}/dashboards/")
    page.locator("#id_date_from").fill("2025-04-01")
    page.locator("#id_date_to").fill("2025-06-30")
    page.locator("#id_channel_type").select_option("partner_referral")
    page.locator("#id_basis").select_option("flow")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert "Nightly snapshot as of" in page.get_by_test_id("snapshot-time").inner_text()
    assert "(none yet)" not in page.get_by_test_id("snapshot-time").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "marketing_manager_funnel.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    csv_text = download_info.value.path().read_text()
    assert csv_text.splitlines()[1].split(",")[2] == "2.0"  # leads: L4 and L5
    page.locator('a[data-metric="MQLs"]').click()
    page.wait_for_load_state("networkidle")
    body = page.content()
    assert "L4" in body and "L5" in body
    for other in ("L1", "L2", "L3", "L6", "L9"):
        assert f">{other}<" not in body
