"""Small datasets for attribution, counted on paper (Acme, America/New_York, Q2 2025).

Sources: Partner (partner referral), Ads (paid). Campaigns: "Cert" (source Partner, cost $300 from
04-01), "Spring ads" (source Ads, cost $500 from 04-15, plus a $100 spend entry on 05-05), "Idle"
(cost $100 from 05-01, never touched), "Autumn" (cost $999 from 09-01: no spend in Q2).

The journey (lead J), times New York:
  t1 page visit 04-28 09:00  /pricing?...   utm partner / referral / CERT   → Source Partner, Campaign Cert
  t2 page visit 04-29 09:00  /blog/post     utm newsletter / email / spring-news (no such source/campaign)
  t3 page visit 04-30 09:00  /              no UTM (direct)
  t4 form       05-01 10:00  /demo          utm Ads / cpc / Spring ads
  created 05-01 10:00 (the form), MQL 05-02 10:00
  t5 page visit 05-10 09:00  /case-study    utm partner / referral / cert (after MQL, before the win)
  won 05-20 10:00 ($1,000; 12-month value $2,000)
  t6 page visit 05-25 09:00  /thanks        utm Ads / cpc / Spring ads (after the win: never credited)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from funnel.services import stage_move
from leads.models import ActivityKind, Campaign, ChannelType, Lead, Source, SpendEntry
from leads.services import activity_log, lead_create
from leadtrack.tenancy.context import tenant_context

NY = ZoneInfo("America/New_York")
Q2_FROM, Q2_TO = date(2025, 4, 1), date(2025, 6, 30)


def ny(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


@dataclass
class World:
    org: object
    partner: Source
    ads: Source
    cert: Campaign
    spring: Campaign
    idle: Campaign
    leads: dict[str, Lead] = field(default_factory=dict)


def touch(org, lead, at, path, source="", medium="", campaign="", kind=ActivityKind.PAGE_VISIT):
    return activity_log(
        org=org,
        actor=None,
        lead_id=lead.pk,
        kind=kind,
        occurred_at=at,
        url=f"https://acme.example{path}",
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
    )


def build_world(org) -> World:
    org.time_zone = "America/New_York"
    org.save()
    with tenant_context(org):
        partner = Source.objects.create(
            organization=org, name="Partner", channel_type=ChannelType.PARTNER_REFERRAL, is_inbound=True
        )
        ads = Source.objects.create(
            organization=org, name="Ads", channel_type=ChannelType.PAID, is_inbound=True
        )
        cert = Campaign.objects.create(
            organization=org, name="Cert", source=partner, start_date=date(2025, 4, 1), cost=30000
        )
        spring = Campaign.objects.create(
            organization=org,
            name="Spring ads",
            source=ads,
            channel_type=ChannelType.PAID,
            start_date=date(2025, 4, 15),
            cost=50000,
        )
        SpendEntry.objects.create(organization=org, spent_on=date(2025, 5, 5), amount=10000, campaign=spring)
        idle = Campaign.objects.create(organization=org, name="Idle", start_date=date(2025, 5, 1), cost=10000)
        Campaign.objects.create(organization=org, name="Autumn", start_date=date(2025, 9, 1), cost=99900)
    return World(org=org, partner=partner, ads=ads, cert=cert, spring=spring, idle=idle)


def add_journey(world: World) -> Lead:
    org = world.org
    with tenant_context(org):
        lead = lead_create(
            org=org, actor=None, data={"company": "Journey", "value_12m": 200000}, created_at=ny(5, 1)
        )
        touch(org, lead, ny(4, 28, 9), "/pricing?plan=pro", "partner", "referral", "CERT")
        touch(org, lead, ny(4, 29, 9), "/blog/post#top", "newsletter", "email", "spring-news")
        touch(org, lead, ny(4, 30, 9), "/")
        touch(org, lead, ny(5, 1), "/demo", "Ads", "cpc", "Spring ads", kind=ActivityKind.WEB_FORM)
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="mql", at=ny(5, 2))
        touch(org, lead, ny(5, 10, 9), "/case-study", "partner", "referral", "cert")
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="won", at=ny(5, 20), amount=100000)
        touch(org, lead, ny(5, 25, 9), "/thanks", "Ads", "cpc", "Spring ads")
        # Not touchpoints: a call and an e-mail open are on the timeline but earn no credit.
        activity_log(org=org, actor=None, lead_id=lead.pk, kind=ActivityKind.CALL, occurred_at=ny(5, 1, 11))
        activity_log(
            org=org, actor=None, lead_id=lead.pk, kind=ActivityKind.EMAIL_OPENED, occurred_at=ny(5, 1, 12)
        )
    world.leads["J"] = lead
    return lead


def add_one_touch(world: World) -> Lead:
    """O: one form submission (Ads / Spring ads) 05-03; MQL 05-04; won 05-15 ($500; 12-month $800)."""
    org = world.org
    with tenant_context(org):
        lead = lead_create(
            org=org, actor=None, data={"company": "One touch", "value_12m": 80000}, created_at=ny(5, 3)
        )
        touch(org, lead, ny(5, 3), "/demo", "ads", "cpc", "spring ads", kind=ActivityKind.WEB_FORM)
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="mql", at=ny(5, 4))
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="won", at=ny(5, 15), amount=50000)
    world.leads["O"] = lead
    return lead


def add_two_touch(world: World) -> Lead:
    """T: a visit (partner / Cert) 05-04 and a form (Ads / Spring ads) 05-05; MQL 05-06; still open."""
    org = world.org
    with tenant_context(org):
        lead = lead_create(org=org, actor=None, data={"company": "Two touch"}, created_at=ny(5, 5))
        touch(org, lead, ny(5, 4), "/pricing", "partner", "referral", "cert")
        touch(org, lead, ny(5, 5), "/demo", "Ads", "cpc", "Spring ads", kind=ActivityKind.WEB_FORM)
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="mql", at=ny(5, 6))
    world.leads["T"] = lead
    return lead


def add_no_touch(world: World) -> Lead:
    """N: no touchpoint at all; MQL 05-07; won 05-30 ($200, no 12-month value)."""
    org = world.org
    with tenant_context(org):
        lead = lead_create(
            org=org, actor=None, data={"company": "No touch", "source": world.partner}, created_at=ny(5, 6)
        )
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="mql", at=ny(5, 7))
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="won", at=ny(5, 30), amount=20000)
    world.leads["N"] = lead
    return lead


@pytest.fixture
def world(org):
    return build_world(org)
