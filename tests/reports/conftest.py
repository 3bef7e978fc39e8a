"""A small funnel you can count on paper (Acme, America/New_York, Q2 2025).

Leads (times are 10:00 New York unless said; "→" are stage moves):
  L1 Web      created 04-02; mql 04-03, sql 04-05, opportunity 04-10 ($1,000), won 05-01 ($1,200);
              value_12m $2,400; call 2 h after creation, meeting 48 h after
  L2 Web      created 04-05; mql 04-06, sql 04-08, opportunity 04-15 ($500), lost 05-10; e-mail 30 h after
  L3 Web      created 04-07; mql 04-09, disqualified 04-20, recycled to lead 05-01 (keeps "reached MQL")
  L4 Partner  created 05-02; lead → sql 05-03 (skips MQL: reached MQL at 05-03)
  L5 Partner  created 05-04; lead → won 06-01 ($300) (skips MQL, SQL, opportunity)
  L6 Paid     created 06-30 23:30 New York (= 07-01 03:30 UTC): still Q2
  L7 Paid     created 07-01 00:30 New York: Q3
  L8 Web      created 03-31 23:00 New York (Q1); mql 04-01 10:00 (a Q2 MQL of a Q1 lead)
  L9 Web      created 04-20; mql 04-21, lead → opportunity 06-10 ($700) (skips SQL), still open
Spend: campaign "Spring ads" (paid, source Paid) $600 starting 04-10; spend entry $400 on 05-15 for Web;
$999.99 on 07-02 (Q3); campaign "Undated" $777.77 without start date (in no period).
Sources: Web (web form, inbound), Partner (partner referral, inbound, referral), Paid (paid, not inbound).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from funnel.services import stage_move
from leads.models import ActivityKind, Campaign, ChannelType, Source, SpendEntry
from leads.services import activity_log, lead_create
from leadtrack.tenancy.context import tenant_context
from reports.selectors import report_settings_get

NY = ZoneInfo("America/New_York")
Q2_FROM, Q2_TO = date(2025, 4, 1), date(2025, 6, 30)


def ny(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


@dataclass
class Funnel:
    org: object
    web: Source
    partner: Source
    paid: Source
    leads: dict


def build_funnel(org, actor) -> Funnel:
    org.time_zone = "America/New_York"
    org.save()
    with tenant_context(org):
        web = Source.objects.create(
            organization=org, name="Web", channel_type=ChannelType.WEB_FORM, is_inbound=True
        )
        partner = Source.objects.create(
            organization=org,
            name="Partner",
            channel_type=ChannelType.PARTNER_REFERRAL,
            is_inbound=True,
            is_referral=True,
        )
        paid = Source.objects.create(organization=org, name="Paid", channel_type=ChannelType.PAID)
        Campaign.objects.create(
            organization=org,
            name="Spring ads",
            source=paid,
            channel_type=ChannelType.PAID,
            start_date=date(2025, 4, 10),
            cost=60000,
        )
        Campaign.objects.create(organization=org, name="Undated", channel_type=ChannelType.PAID, cost=77777)
        SpendEntry.objects.create(organization=org, spent_on=date(2025, 5, 15), amount=40000, source=web)
        SpendEntry.objects.create(organization=org, spent_on=date(2025, 7, 2), amount=99999, source=web)
        settings_row = report_settings_get(org=org)
        settings_row.monthly_value_per_customer = 10000
        settings_row.gross_margin = 50
        settings_row.customer_lifetime_months = 24
        settings_row.first_contact_sla_hours = 24
        settings_row.save()

        def lead(name, source, created, **data):
            return lead_create(
                org=org, actor=actor, data={"company": name, "source": source, **data}, created_at=created
            )

        def move(lead_obj, stage, at, **kwargs):
            stage_move(org=org, actor=actor, lead_id=lead_obj.pk, to_stage=stage, at=at, **kwargs)

        leads = {}
        leads["L1"] = l1 = lead("L1", web, ny(4, 2), value_12m=240000)
        move(l1, "mql", ny(4, 3))
        move(l1, "sql", ny(4, 5))
        move(l1, "opportunity", ny(4, 10), amount=100000)
        move(l1, "won", ny(5, 1), amount=120000)
        activity_log(org=org, actor=actor, lead_id=l1.pk, kind=ActivityKind.CALL, occurred_at=ny(4, 2, 12))
        activity_log(org=org, actor=actor, lead_id=l1.pk, kind=ActivityKind.MEETING, occurred_at=ny(4, 4))
        leads["L2"] = l2 = lead("L2", web, ny(4, 5))
        move(l2, "mql", ny(4, 6))
        move(l2, "sql", ny(4, 8))
        move(l2, "opportunity", ny(4, 15), amount=50000)
        move(l2, "lost", ny(5, 10), reason="Budget")
        activity_log(
            org=org, actor=actor, lead_id=l2.pk, kind=ActivityKind.EMAIL_SENT, occurred_at=ny(4, 6, 16)
        )
        leads["L3"] = l3 = lead("L3", web, ny(4, 7))
        move(l3, "mql", ny(4, 9))
        move(l3, "disqualified", ny(4, 20), reason="No fit yet")
        move(l3, "lead", ny(5, 1))
        leads["L4"] = l4 = lead("L4", partner, ny(5, 2))
        move(l4, "sql", ny(5, 3))
        leads["L5"] = l5 = lead("L5", partner, ny(5, 4))
        move(l5, "won", ny(6, 1), amount=30000)
        leads["L6"] = lead("L6", paid, ny(6, 30, 23, 30))
        leads["L7"] = lead("L7", paid, ny(7, 1, 0, 30))
        leads["L8"] = l8 = lead("L8", web, ny(3, 31, 23))
        move(l8, "mql", ny(4, 1))
        leads["L9"] = l9 = lead("L9", web, ny(4, 20))
        move(l9, "mql", ny(4, 21))
        move(l9, "opportunity", ny(6, 10), amount=70000)
    return Funnel(org=org, web=web, partner=partner, paid=paid, leads=leads)


@pytest.fixture
def funnel(org, mike):
    return build_funnel(org, mike)
