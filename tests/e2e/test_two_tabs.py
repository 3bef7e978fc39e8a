"""T10: a person in two organizations opens a form in one tab, switches organization in another tab,
then posts the first tab's form. The post belongs to the organization its page came from."""

from __future__ import annotations

from playwright.sync_api import expect

from leads.models import Lead
from leadtrack.tenancy.context import tenant_context


def test_a_form_posted_after_switching_organization_in_another_tab_stays_in_its_own(
    page, login_as, dana, org, other_org
):
    login_as(dana)
    page.goto(f"/o/{org.slug}/leads/new/")
    expect(page.get_by_role("heading", name="New lead")).to_be_visible()
    page.get_by_label("Company:", exact=True).fill("Two Tabs Ltd")
    page.get_by_label("E-mail:", exact=True).fill("tabs@two.example")

    other_tab = page.context.new_page()
    other_tab.goto(f"/o/{other_org.slug}/leads/")
    expect(other_tab.get_by_role("heading", name="Leads")).to_be_visible()
    other_tab.close()

    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("heading", name="Two Tabs Ltd")).to_be_visible()
    with tenant_context(org):
        assert Lead.objects.filter(email="tabs@two.example").count() == 1
    with tenant_context(other_org):
        assert not Lead.objects.filter(email="tabs@two.example").exists()
    print("T10: form from tab A posted after switching to B in tab B: written to A only (0 rows in B)")
