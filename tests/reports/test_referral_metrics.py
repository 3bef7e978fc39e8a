"""Virality K and viral cycle time through the registry: the referrals app's numbers, counted by hand.

Customers X (won 150 days ago) and Y (won 120 days ago) are active at the start of the last 30 days.
In those days X refers E and F (customer program); E is won. K = 2 customer-referred leads / 2 customers
x 1 won / 2 referred = 0.5. X's first referral comes 150 days after X's own win: cycle 150 d, n = 1.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads.services import lead_create
from leadtrack.tenancy.context import tenant_context
from referrals import services
from referrals.models import ProgramKind
from reports.selectors import metric_table, metric_values
from tests.referrals.conftest import make_program


def won_customer(org, email, *, days_ago_won):
    now = timezone.now()
    with tenant_context(org):
        lead = lead_create(org=org, actor=None, data={"email": email}, created_at=now - timedelta(days=200))
        stage_move(
            org=org,
            actor=None,
            lead_id=lead.pk,
            to_stage=Stage.WON,
            amount=100,
            at=now - timedelta(days=days_ago_won),
        )
    return lead


@pytest.fixture
def customer_referrals(org):
    x = won_customer(org, "x@customer-x.example", days_ago_won=150)
    won_customer(org, "y@customer-y.example", days_ago_won=120)
    advocates = make_program(org, "Advocates", kind=ProgramKind.CUSTOMER)
    with tenant_context(org):
        e, _f = (
            services.referral_submit(
                org=org,
                program_id=advocates.pk,
                referrer=services.Referrer(kind="customer", customer=x),
                data={"company": name.upper(), "contact_name": name, "email": f"{name}@{name}.example"},
                submitted_by=None,
            ).referral
            for name in "ef"
        )
        stage_move(org=org, actor=None, lead_id=e.lead_id, to_stage=Stage.WON, amount=1_000_00)
    return org


def values(org, metric, *, period="custom", group_by=(), filters=None):
    today = timezone.localdate()
    with tenant_context(org):
        return metric_values(
            org=org,
            metric=metric,
            period=period,
            group_by=list(group_by),
            date_from=today - timedelta(days=30),
            date_to=today,
            filters=filters or {},
        )


def test_virality_is_the_referral_programs_k(customer_referrals):
    (row,) = values(customer_referrals, "virality")
    assert row["value"] == pytest.approx(2 / 2 * 1 / 2)


def test_viral_cycle_time_is_the_median_from_win_to_first_referral(customer_referrals):
    (row,) = values(customer_referrals, "viral_cycle_time")
    assert round(row["value"]) == 150
    assert row["n"] == 1


def test_each_period_asks_the_referral_program_for_its_own_range(customer_referrals):
    today = timezone.localdate()
    rows = {row["period_start"]: row for row in values(customer_referrals, "virality", period="day")}
    # Only today has customer referrals; the days before have none (0 invites x 0/0 conversion: "—").
    assert rows[today]["value"] == pytest.approx(0.5)
    assert rows[today - timedelta(days=1)]["value"] is None
    assert len(rows) == 31


def test_slices_and_filtered_populations_show_a_dash(customer_referrals):
    today = timezone.localdate()
    with tenant_context(customer_referrals):
        table = metric_table(
            org=customer_referrals,
            metrics=["leads", "virality"],
            period="custom",
            group_by=["source"],
            date_from=today - timedelta(days=30),
            date_to=today,
            filters={},
        )
    assert sum(row["values"]["leads"].value for row in table.rows) == 2  # E and F
    assert [row["values"]["virality"].value for row in table.rows] == [None] * len(table.rows)
    (filtered,) = values(customer_referrals, "virality", filters={"segment": "smb"})
    assert filtered["value"] is None


def test_the_velocity_page_shows_the_referral_section(customer_referrals, mike, login):
    today = timezone.localdate()
    page = login(mike).get(
        reverse("dashboards_velocity", kwargs={"org_slug": customer_referrals.slug}),
        {"date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="referral-program"' in html
    assert '<td class="num" data-metric="virality">0.50</td>' in html
    assert '<td class="num" data-metric="viral_cycle_time">150.0 d</td>' in html
