"""A sales rep works a lead in a real browser: create, meet the duplicate check, log a call,
move it to MQL and then SQL, and read the timeline."""

from __future__ import annotations

from playwright.sync_api import expect

from funnel.stages import Stage
from leads.models import Activity, ActivityKind, Lead
from leadtrack.tenancy.context import tenant_context


def test_a_rep_logs_a_lead_meets_its_duplicate_logs_a_call_and_moves_it_to_sql(page, login_as, bob, org):
    blocked = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    login_as(bob)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads", exact=True).click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    page.get_by_role("link", name="New lead").click()
    page.get_by_label("Company:", exact=True).fill("Initech")
    page.get_by_label("Contact name:", exact=True).fill("Peter Gibbons")
    page.get_by_label("E-mail:", exact=True).fill("peter@initech.com")
    page.get_by_label("Expected amount:", exact=True).fill("12,500")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_text("Lead Initech created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Initech")).to_be_visible()

    # The same person again, typed a little differently: the existing lead is offered.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads", exact=True).click()
    page.get_by_role("link", name="New lead").click()
    page.get_by_label("Company:", exact=True).fill("Initech Corp")
    page.get_by_label("E-mail:", exact=True).fill("Peter@Initech.com")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_text("A lead with the same e-mail already exists: Initech.")).to_be_visible()
    expect(page.get_by_role("button", name="Merge into it")).to_be_visible()
    page.get_by_role("link", name="Open it").click()

    # One click logs the call (the timeline refreshes in place).
    page.get_by_label("Summary:", exact=True).fill("Discovery call: wants a demo")
    page.get_by_role("button", name="Log call").click()
    expect(page.locator("#timeline").get_by_text("Discovery call: wants a demo")).to_be_visible()

    page.get_by_label("Move to:", exact=True).select_option(Stage.MQL.value)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text("Initech moved to MQL.")).to_be_visible()
    page.get_by_label("Move to:", exact=True).select_option(Stage.SQL.value)
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text("Initech moved to SQL.")).to_be_visible()

    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("MQL → SQL")).to_be_visible()
    expect(timeline.get_by_text("Lead → MQL")).to_be_visible()
    expect(timeline.get_by_text("Call: Discovery call: wants a demo")).to_be_visible()
    expect(page.locator(".page-head .stage")).to_have_text("SQL")

    with tenant_context(org):
        lead = Lead.objects.get()
        assert (lead.stage, lead.owner_id, lead.expected_amount) == (Stage.SQL, bob.pk, 1250000)
        assert lead.first_contacted_at is not None and lead.reached_sql_at is not None
        assert Activity.objects.get(lead=lead).kind == ActivityKind.CALL
    assert blocked == [] and page.dialogs == []


def test_a_rep_drags_a_card_on_the_board_and_sees_a_conflict_when_beaten_to_it(
    page, login_as, bob, mike, org
):
    from funnel.services import stage_move
    from tests.factories import make_lead

    first = make_lead(org, company="Dragged Ltd", owner=bob)
    second = make_lead(org, company="Contested Ltd", owner=bob)
    login_as(bob)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board").click()
    mql = page.locator('.column[data-stage="mql"]')
    page.locator(f'.card[data-lead="{first.pk}"]').drag_to(mql)
    expect(page.locator("#board-status")).to_have_text("Dragged Ltd moved to MQL.")
    expect(mql.locator(f'.card[data-lead="{first.pk}"]')).to_be_visible()

    # Mike moves the other lead while Bob still sees it under Lead.
    with tenant_context(org):
        stage_move(org=org, actor=mike, lead_id=second.pk, to_stage=Stage.SQL)
    page.locator(f'.card[data-lead="{second.pk}"]').drag_to(mql)
    expect(page.locator("#board-status")).to_have_text(
        "This lead was moved to SQL by Mike Manager a moment ago; your move was not applied."
    )
    expect(page.locator(f'.column[data-stage="lead"] .card[data-lead="{second.pk}"]')).to_be_visible()
    with tenant_context(org):
        assert Lead.objects.get(pk=first.pk).stage == Stage.MQL
        assert Lead.objects.get(pk=second.pk).stage == Stage.SQL
