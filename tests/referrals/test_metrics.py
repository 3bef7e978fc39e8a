"""Referral metrics against a hand-computed dataset (docs/metrics.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Campaign, ChannelType, SpendEntry
from leads.services import lead_create
from leadtrack.tenancy.context import tenant_context
from referrals import selectors, services
from referrals.models import ProgramKind
from tests.factories import make_lead
from tests.referrals.conftest import make_program, submit


def old_customer(org, email, *, days_ago_won):
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


def move(org, lead_id, *stages):
    with tenant_context(org):
        for stage in stages:
            stage_move(org=org, actor=None, lead_id=lead_id, to_stage=stage, amount=1_000_00)


@pytest.fixture
def dataset(org, program, partnerco, django_capture_on_commit_callbacks):
    """Referral leads in the period: partner A (won), B (MQL), C, D; customer-referred E (won), F.
    Customers won before the period: X (refers E and F) and Y. A web-form lead G is won (not a referral)."""
    a, b, _c, _d = (
        submit(org, partnerco, program, email=f"{n}@{n}.example", company=n.upper()).referral for n in "abcd"
    )
    with django_capture_on_commit_callbacks(execute=True):  # the win's reward is granted on commit
        move(org, a.lead_id, Stage.MQL, Stage.SQL, Stage.WON)
    move(org, b.lead_id, Stage.MQL)
    x = old_customer(org, "x@customer-x.example", days_ago_won=150)
    old_customer(org, "y@customer-y.example", days_ago_won=120)
    advocates = make_program(org, "Advocates", kind=ProgramKind.CUSTOMER)
    with tenant_context(org):
        customer = services.Referrer(kind="customer", customer=x)
        e, _f = (
            services.referral_submit(
                org=org,
                program_id=advocates.pk,
                referrer=customer,
                data={"company": n.upper(), "contact_name": n, "email": f"{n}@{n}.example"},
                submitted_by=None,
            ).referral
            for n in "ef"
        )
    move(org, e.lead_id, Stage.WON)
    g = make_lead(org, company="G", email="g@g.example")
    move(org, g.pk, Stage.WON)
    today = timezone.localdate()
    with tenant_context(org):
        SpendEntry.objects.create(
            organization=org, spent_on=today, amount=500_00, channel_type=ChannelType.PARTNER_REFERRAL
        )
        Campaign.objects.create(
            organization=org,
            name="Partner summit",
            channel_type=ChannelType.PARTNER_REFERRAL,
            cost=1_000_00,
            start_date=today,
        )
    return selectors.Period(start=today - timedelta(days=30), end=today + timedelta(days=1))


def test_referral_rates_virality_and_cycle_time(org, dataset):
    with tenant_context(org):
        metrics = selectors.referral_metrics(org=org, period=dataset)
    assert (metrics.leads, metrics.mqls, metrics.won) == (6, 3, 2)
    assert metrics.conversion_rate == pytest.approx(2 / 6)
    assert metrics.mql_rate == pytest.approx(3 / 6)
    assert (metrics.customer_referral_leads, metrics.active_customers) == (2, 2)
    assert metrics.virality == pytest.approx(2 / 2 * 1 / 2)
    assert metrics.viral_cycle_n == 1
    assert round(metrics.viral_cycle_days) == 150


def test_partner_performance_and_channel_cac(org, dataset, partnerco):
    with tenant_context(org):
        (row,) = [p for p in selectors.partner_performance(org=org, period=dataset) if p.pk == partnerco.pk]
        cost = selectors.partner_channel_cac(org=org, period=dataset)
    assert (row.referral_count, row.lead_count, row.mql_count, row.sql_count, row.won_count) == (
        4,
        4,
        2,
        1,
        1,
    )
    assert (row.mql_rate, row.sql_rate) == (2 / 4, 1 / 2)
    assert row.revenue == 1_000_00
    assert row.reward_total == 100_00  # 10% of the won amount (no first-year value set)
    assert (cost.spend, cost.won, cost.cac) == (1_500_00, 1, 1_500_00)


def test_an_empty_period_shows_dashes_not_zero(org):
    today = timezone.localdate()
    with tenant_context(org):
        metrics = selectors.referral_metrics(org=org, period=selectors.Period(start=today, end=today))
        cost = selectors.partner_channel_cac(org=org, period=selectors.Period(start=today, end=today))
    assert (metrics.conversion_rate, metrics.mql_rate, metrics.virality, metrics.viral_cycle_days) == (
        None,
        None,
        None,
        None,
    )
    assert cost.cac is None
