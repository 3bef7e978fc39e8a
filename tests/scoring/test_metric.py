"""% of MQLs meeting qualification criteria, counted by hand."""

from __future__ import annotations

from datetime import date

from funnel.scoring.services import bant_update
from funnel.services import stage_move
from funnel.stages import Stage
from leadtrack.tenancy.context import tenant_context
from reports.selectors import metric_values
from tests.factories import make_lead
from tests.scoring.conftest import settings_set


def _rate(org):
    today = date.today()
    with tenant_context(org):
        rows = metric_values(
            org=org,
            metric="mqls_meeting_qualification",
            period="custom",
            group_by=[],
            date_from=today.replace(day=1),
            date_to=today,
            filters={},
        )
    return rows[0] if rows else None


def test_it_is_the_share_of_mqls_whose_checklist_meets_the_bant_rule(org):
    # Four MQLs this month: A ticks 4, B ticks 3, C ticks 1, D nothing; E (still a lead) ticks 4.
    ticks = {
        "A": (True, True, True, True),
        "B": (True, True, True, False),
        "C": (True, False, False, False),
        "D": None,
        "E": (True, True, True, True),
    }
    for name, boxes in ticks.items():
        lead = make_lead(org, company=name)
        with tenant_context(org):
            if name != "E":
                stage_move(org=org, actor=None, lead_id=lead.pk, to_stage=Stage.MQL)
            if boxes:
                budget, authority, need, timeline = boxes
                bant_update(
                    org=org,
                    actor=None,
                    lead_id=lead.pk,
                    budget=budget,
                    authority=authority,
                    need=need,
                    timeline=timeline,
                )
    row = _rate(org)
    # Rule "all four": A only → 1 / 4.
    assert (row["numerator"], row["denominator"], row["value"]) == (1, 4, 0.25)
    settings_set(org, bant_required=3)
    # "At least 3 of 4": A and B → 2 / 4.
    assert _rate(org)["value"] == 0.5


def test_no_mql_is_no_value_not_zero(org):
    make_lead(org, company="Just a lead")
    row = _rate(org)
    assert row is None or row["value"] is None
