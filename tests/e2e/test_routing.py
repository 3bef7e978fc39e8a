"""An admin builds a team and two routing rules in the browser; new leads are routed as the rules
say, and the SLA queue shows a lead once its first-contact deadline has passed (the clock is moved
through the data, not by waiting)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from funnel.routing.models import LeadRouting
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.factories import UserFactory, add_member


def _rep(org, name):
    user = UserFactory(email=f"{name.lower()}@acme.example", full_name=f"{name} Rep")
    add_member(org, user, Role.SALES_REP)
    return user


def _new_lead(page, company, country):
    page.get_by_role("link", name="Leads").first.click()
    page.get_by_role("link", name="New lead").click()
    page.get_by_label("Company:", exact=True).fill(company)
    page.get_by_label("Country:", exact=True).select_option(label=country)
    page.get_by_label("Owner:", exact=True).select_option(label="Unassigned")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_text(f"Lead {company} created.")).to_be_visible()


def test_an_admin_sets_up_routing_and_the_sla_queue_fills_after_the_deadline(page, login_as, alice, org):
    for name in ("Rae", "Sam", "Tia"):
        _rep(org, name)
    login_as(alice)
    page.get_by_role("link", name="Routing").click()
    expect(page.get_by_text("No rules yet")).to_be_visible()

    # A team of two reps.
    page.get_by_role("link", name="New team").click()
    page.get_by_label("Name:", exact=True).fill("Inbound")
    page.get_by_role("button", name="Create team").click()
    for rep in ("Rae Rep", "Sam Rep"):
        page.get_by_label("Rep:", exact=True).select_option(label=rep)
        page.get_by_role("button", name="Add rep").click()
        expect(page.get_by_role("cell", name=rep)).to_be_visible()
    page.get_by_role("link", name="Routing rules").click()

    # Rule 1: German leads to Tia. Rule 2: everyone else round robin in Inbound.
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name:", exact=True).fill("Germany to Tia")
    page.get_by_label("Countries:", exact=True).select_option(label="Germany")
    page.get_by_label("Action:", exact=True).select_option(label="Assign to a person")
    page.get_by_label("Person:", exact=True).select_option(label="Tia Rep")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule Germany to Tia saved.")).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name:", exact=True).fill("Everyone else")
    page.get_by_label("Action:", exact=True).select_option(label="Round robin across a team")
    page.get_by_label("Team:", exact=True).select_option(label="Inbound")
    page.get_by_role("button", name="Save rule").click()
    rules = page.locator("#routing-rules tbody tr")
    expect(rules).to_have_count(2)
    expect(rules.nth(0)).to_contain_text("Country: Germany")
    expect(rules.nth(0)).to_contain_text("Assign to Tia Rep")
    expect(rules.nth(1)).to_contain_text("Round robin in Inbound")

    # New leads without an owner are routed as the rules say.
    _new_lead(page, "Berlin GmbH", "Germany")
    expect(page.get_by_text("Routed by rule Germany to Tia")).to_be_visible()
    _new_lead(page, "Paris SA", "France")
    expect(page.get_by_text("Routed by rule Everyone else (round robin in team Inbound)")).to_be_visible()
    _new_lead(page, "Lyon SARL", "France")
    with tenant_context(org):
        owners = dict(Lead.objects.values_list("company", "owner__email"))
    assert owners == {
        "Berlin GmbH": "tia@acme.example",
        "Paris SA": "rae@acme.example",
        "Lyon SARL": "sam@acme.example",
    }

    # Nothing is due yet; then Berlin's deadline passes (moved through the data).
    page.get_by_role("link", name="SLA queue").click()
    expect(page.get_by_text("No lead is breaching")).to_be_visible()
    with tenant_context(org):
        LeadRouting.objects.filter(lead__company="Berlin GmbH").update(
            sla_due_at=timezone.now() - timedelta(minutes=5)
        )
    page.reload()
    queue = page.locator("#sla-queue tbody tr")
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text("Berlin GmbH")
    expect(queue.first).to_contain_text("Tia Rep")
    expect(queue.first).to_contain_text("Breached")
    assert page.dialogs == []
