"""The partner dimension, counted by hand: leads reach a partner through the partner referral carrying them.

Partnerco refers A1 and A2 (A1 is won); Rivalco refers B1 and, later, A2 again (A2 stays Partnerco's:
a lead belongs to its first partner referral); P is a lead no partner referred. Leads: Partnerco 2,
Rivalco 1, none 1; won: Partnerco 1.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leadtrack.tenancy.context import tenant_context
from referrals.models import Referral, ReferrerKind
from reports.selectors import metric_values, slice_filters, snapshot_slices
from reports.services import snapshot_recompute
from tests.factories import make_lead
from tests.referrals.conftest import partnerco, program, registered, rivalco, submit  # noqa: F401


@pytest.fixture
def partner_leads(org, program, partnerco, rivalco):  # noqa: F811
    a1, a2 = (
        submit(org, partnerco, program, company=name, email=f"{name}@{name}.example").referral
        for name in ("a1", "a2")
    )
    submit(org, rivalco, program, company="b1", email="b1@b1.example")
    with tenant_context(org):
        Referral.objects.create(
            organization=org,
            program=program,
            referrer_kind=ReferrerKind.PARTNER,
            partner=rivalco,
            lead_id=a2.lead_id,
            company="a2",
            contact_name="a2",
            email="a2@a2.example",
            submitted_at=timezone.now() + timedelta(minutes=1),
        )
        stage_move(org=org, actor=None, lead_id=a1.lead_id, to_stage=Stage.WON, amount=1_000_00)
    make_lead(org, company="P", email="p@p.example")
    return {"partnerco": partnerco, "rivalco": rivalco}


def by_partner(org, metric, period="custom"):
    today = timezone.localdate()
    with tenant_context(org):
        rows = metric_values(
            org=org,
            metric=metric,
            period=period,
            group_by=["partner"],
            date_from=today - timedelta(days=30),
            date_to=today,
            filters={},
        )
    return rows


def test_leads_and_wins_by_partner(org, partner_leads):
    first, second = str(partner_leads["partnerco"].pk), str(partner_leads["rivalco"].pk)
    leads = {(row["partner"], row["partner_label"]): row["value"] for row in by_partner(org, "leads")}
    assert leads == {(first, "Partnerco"): 2, (second, "Rivalco"): 1, ("", "(none)"): 1}
    won = {row["partner"]: row["value"] for row in by_partner(org, "won")}
    assert won == {first: 1, second: 0, "": 0}


def test_a_partner_slice_has_no_lead_list_drill_down(org, partner_leads):
    (row, *_) = by_partner(org, "leads")
    assert slice_filters(group_by=["partner"], row=row) is None


def test_partner_snapshots_equal_the_live_numbers(org, partner_leads):
    today = timezone.localdate()
    with tenant_context(org):
        snapshot_recompute(org=org)
        stored = snapshot_slices(
            org=org,
            metrics=["leads", "won"],
            grain="month",
            dimension="partner",
            date_from=today - timedelta(days=62),
            date_to=today,
        )
    live = {
        (row["period_start"], row["partner"]): row["value"]
        for row in by_partner(org, "leads", period="month")
        if row["period_start"].day == 1  # whole months only (the range starts mid-month)
    }
    assert {key: values["leads"].value for key, values in stored.items()} == live
    assert sum(values["won"].value for values in stored.values()) == 1
