"""An admin builds a three-rule scoring model in the browser; a lead is scored and explained."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from funnel.scoring.models import ScoringRule
from leads.models import Industry, Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead


@pytest.fixture
def cobot_lead(org, alice):
    with tenant_context(org):
        robotics = Industry.objects.create(organization=org, name="Robotics")
    return make_lead(org, company="Cobot Works", job_title="VP Operations", industry=robotics, owner=alice)


def _new_rule(page, name: str, condition: str, points: int, **fields) -> None:
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Condition").select_option(label=condition)
    for label, value in fields.items():
        field = page.get_by_label(f"{label}:", exact=True)
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(str(value))
    page.get_by_label("Points").fill(str(points))
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text(f"Saved rule “{name}”")).to_be_visible()


def test_an_admin_builds_a_scoring_model_and_the_lead_page_explains_the_score(
    page, login_as, alice, org, cobot_lead
):
    login_as(alice)
    page.get_by_role("link", name="Lead scoring").first.click()
    expect(page.get_by_role("heading", name="Lead scoring")).to_be_visible()

    # Start with a mistake: an industry rule without its industry is a field error.
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Robotics")
    page.get_by_label("Condition").select_option(label="Industry is")
    page.get_by_label("Points").fill("15")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Choose the industry.")).to_be_visible()
    page.get_by_role("link", name="Lead scoring").first.click()

    _new_rule(page, "Robotics", "Industry is", 15, Industry="Robotics")
    _new_rule(page, "Senior title", "Job title contains a seniority keyword", 10)
    _new_rule(page, "Saw a demo", "Activity logged", 40, Activity="Demo", **{"Half-life (days)": 30})
    table = page.locator("#scoring-rules")
    expect(table.get_by_role("row")).to_have_count(4)
    expect(page.locator("#rescore-run")).to_contain_text("Done")
    with tenant_context(org):
        assert list(ScoringRule.objects.order_by("position").values_list("name", flat=True)) == [
            "Robotics",
            "Senior title",
            "Saw a demo",
        ]
        assert Lead.objects.get(pk=cobot_lead.pk).score == 25

    # A rep logs a demo on the lead: it is rescored, and the lead page explains the score.
    page.goto(f"/o/{org.slug}/leads/{cobot_lead.pk}/")
    expect(page.get_by_test_id("lead-score")).to_have_text("25")
    page.get_by_role("button", name="Log demo").click()
    expect(page.locator("#timeline")).to_contain_text("Demo")
    page.reload()
    expect(page.get_by_test_id("lead-score")).to_have_text("65")
    explanation = page.locator(".score-explanation")
    expect(explanation.get_by_role("row", name="Robotics")).to_contain_text("+15")
    expect(explanation.get_by_role("row", name="Senior title")).to_contain_text("+10")
    expect(explanation.get_by_role("row", name="Saw a demo")).to_contain_text("+40")
    expect(page.locator(".score-history")).to_contain_text("25 → 65 (activity logged)")

    # The BANT checklist, ticked on the lead page.
    page.get_by_label("Budget").check()
    page.get_by_label("Need").check()
    page.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_text("2 of 4 ticked")).to_be_visible()
    assert page.dialogs == []
