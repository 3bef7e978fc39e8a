"""E-mail engagement rates and the lead-side web KPIs, counted by hand (Acme, New York, Q2 2025)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from funnel.services import stage_move
from leads.models import ActivityKind, Campaign, ChannelType, Lead, Source
from leads.services import activity_log, lead_create
from leadtrack.tenancy.context import tenant_context
from reports.attribution.selectors import email_engagement
from reports.attribution.services import ParsedEvent, email_events_record
from reports.selectors import metric_table
from tests.attribution.conftest import Q2_FROM, Q2_TO, ny


@pytest.fixture
def new_york(org):
    org.time_zone = "America/New_York"
    org.save()
    return org


def utc(month, day, hour, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def record(org, *events):
    parsed = [
        ParsedEvent(
            event_id=f"e{index}",
            event_type=kind,
            message_id=message,
            recipient=f"{message}@client.example",
            campaign=campaign,
            url="",
            occurred_at=at,
        )
        for index, (kind, message, campaign, at) in enumerate(events)
    ]
    with tenant_context(org):
        email_events_record(org=org, events=parsed)


def engagement(org, date_from=Q2_FROM, date_to=Q2_TO):
    with tenant_context(org):
        rows = email_engagement(org=org, date_from=date_from, date_to=date_to)
    return {
        row["label"]: (row["delivered"], *(value.value for value in row["values"].values())) for row in rows
    }


def test_email_rates_per_campaign_by_hand(new_york):
    org = new_york
    with tenant_context(org):
        Campaign.objects.create(organization=org, name="Spring News")
    d = "delivered"
    record(
        org,
        # m1: delivered, opened twice, clicked → one unique open, one unique click.
        (d, "m1", "spring news", utc(5, 1, 14)),
        ("open", "m1", "spring news", utc(5, 1, 15)),
        ("open", "m1", "spring news", utc(5, 2, 9)),
        ("click", "m1", "spring news", utc(5, 2, 9, 1)),
        # m2: delivered, opened.
        (d, "m2", "Spring news", utc(5, 1, 14)),
        ("open", "m2", "Spring news", utc(5, 3, 8)),
        # m3: delivered, unsubscribed without an open event.
        (d, "m3", "SPRING NEWS", utc(5, 1, 14)),
        ("unsubscribe", "m3", "SPRING NEWS", utc(5, 4, 8)),
        # m4: bounced, never delivered: in no denominator.
        ("bounce", "m4", "Spring news", utc(5, 1, 14)),
        # m5: delivered 07-01 03:30 UTC = 06-30 23:30 New York: still Q2; opened in July (counted: as of now).
        (d, "m5", "Spring news", utc(7, 1, 3, 30)),
        ("open", "m5", "Spring news", utc(7, 2, 8)),
        # m6: delivered 07-01 05:00 UTC = 07-01 01:00 New York: Q3.
        (d, "m6", "Spring news", utc(7, 1, 5)),
        # m7: an open without a delivered event: not a delivered message.
        ("open", "m7", "Spring news", utc(5, 1, 14)),
        # Another campaign the organization does not know: shown as sent.
        (d, "n1", "Partner digest", utc(6, 1, 12)),
    )
    found = engagement(org)
    # Spring News (matched to the Campaign, whatever the case): delivered m1 m2 m3 m5 = 4;
    # opened m1 m2 m5 = 3; clicked m1 = 1; unsubscribed m3 = 1.
    assert found["Spring News"] == pytest.approx((4, 3 / 4, 1 / 4, 1 / 4))
    assert found["Partner digest"] == pytest.approx((1, 0.0, 0.0, 0.0))
    assert found["All campaigns"] == pytest.approx((5, 3 / 5, 1 / 5, 1 / 5))


def test_email_rates_with_nothing_delivered_are_dashes(new_york):
    record(new_york, ("open", "m1", "Spring news", utc(5, 1, 14)))
    assert engagement(new_york) == {"All campaigns": (0, None, None, None)}


def test_email_period_edge_in_the_organizations_time_zone(new_york):
    record(new_york, ("delivered", "m1", "x", utc(7, 1, 3, 30)))  # 06-30 23:30 in New York
    assert engagement(new_york, date_from=date(2025, 6, 30), date_to=date(2025, 6, 30))["x"][0] == 1
    assert "x" not in engagement(new_york, date_from=date(2025, 7, 1), date_to=date(2025, 7, 1))


def kpis(org, metrics, group_by=(), date_from=Q2_FROM, date_to=Q2_TO):
    with tenant_context(org):
        table = metric_table(
            org=org,
            metrics=metrics,
            period="custom",
            group_by=list(group_by),
            date_from=date_from,
            date_to=date_to,
            filters={},
        )
    return table.rows


@pytest.fixture
def contacted(new_york):
    """Leads created in Q2 (New York):
    A  e-mailed 04-02 10:00, replied 04-05            → engaged
    B  called 04-03, meeting 04-25 (22 days later)     → not engaged (after 14 days)
    C  first contact is a meeting 04-04                → engaged
    D  never contacted                                 → not in the denominator
    E  e-mailed 04-10; a reply logged *before* it 04-09 → not engaged
    F  created 06-30 23:30 New York (07-01 UTC), e-mailed 07-01 09:00, replied 07-02 → engaged, and in Q2
    G  created 07-01 00:30 New York (Q3), e-mailed, replied → not in Q2
    Sources: A B C from Web (web form, inbound); D E from Outbound (not inbound); F G no source.
    """
    org = new_york
    with tenant_context(org):
        web = Source.objects.create(
            organization=org, name="Web", channel_type=ChannelType.WEB_FORM, is_inbound=True
        )
        outbound = Source.objects.create(organization=org, name="Outbound", channel_type=ChannelType.OUTBOUND)

        def lead(name, source, created):
            return lead_create(
                org=org, actor=None, data={"company": name, "source": source}, created_at=created
            )

        def log(lead_obj, kind, at):
            activity_log(org=org, actor=None, lead_id=lead_obj.pk, kind=kind, occurred_at=at)

        a = lead("A", web, ny(4, 1))
        log(a, ActivityKind.EMAIL_SENT, ny(4, 2))
        log(a, ActivityKind.EMAIL_REPLIED, ny(4, 5))
        b = lead("B", web, ny(4, 1))
        log(b, ActivityKind.CALL, ny(4, 3))
        log(b, ActivityKind.MEETING, ny(4, 25))
        c = lead("C", web, ny(4, 1))
        log(c, ActivityKind.MEETING, ny(4, 4))
        lead("D", outbound, ny(4, 1))
        e = lead("E", outbound, ny(4, 8))
        log(e, ActivityKind.EMAIL_REPLIED, ny(4, 9))
        log(e, ActivityKind.EMAIL_SENT, ny(4, 10))
        f = lead("F", None, ny(6, 30, 23, 30))
        log(f, ActivityKind.EMAIL_SENT, ny(7, 1, 9))
        log(f, ActivityKind.EMAIL_REPLIED, ny(7, 2, 9))
        g = lead("G", None, ny(7, 1, 0, 30))
        log(g, ActivityKind.EMAIL_SENT, ny(7, 1, 9))
        log(g, ActivityKind.EMAIL_REPLIED, ny(7, 2, 9))
    return org


def test_first_contact_engagement_by_hand(contacted):
    (row,) = kpis(contacted, ["first_contact_engagement"])
    value = row["values"]["first_contact_engagement"]
    # Contacted in the Q2 cohort: A B C E F = 5; engaged A C F = 3.
    assert (value.numerator, value.denominator) == (3, 5)
    assert value.value == pytest.approx(3 / 5)


def test_first_contact_engagement_without_contacted_leads_is_a_dash(contacted):
    (row,) = kpis(
        contacted, ["first_contact_engagement"], date_from=date(2025, 1, 1), date_to=date(2025, 1, 31)
    )
    assert row["values"]["first_contact_engagement"].value is None


def test_inbound_lead_volume_by_hand(contacted):
    (row,) = kpis(contacted, ["inbound_leads", "leads"])
    # Q2 leads A B C D E F = 6 (G is Q3 in New York); inbound (Web) A B C = 3.
    assert (row["values"]["inbound_leads"].value, row["values"]["leads"].value) == (3, 6)


def test_signup_source_quality_per_source_by_hand(contacted):
    org = contacted
    with tenant_context(org):
        a, d = Lead.objects.get(company="A"), Lead.objects.get(company="D")
        stage_move(org=org, actor=None, lead_id=a.pk, to_stage="mql", at=ny(4, 6))
        # D skips MQL: reaching SQL counts as reaching MQL.
        stage_move(org=org, actor=None, lead_id=d.pk, to_stage="sql", at=ny(4, 6))
    rows = kpis(org, ["signup_source_quality"], group_by=["source"])
    found = {row["source_label"]: row["values"]["signup_source_quality"] for row in rows}
    # Web: A B C, A reached MQL → 1/3. Outbound: D E, D → 1/2. No source: F → 0/1.
    assert found["Web"].value == pytest.approx(1 / 3)
    assert found["Outbound"].value == pytest.approx(1 / 2)
    assert (found["(none)"].numerator, found["(none)"].denominator) == (0, 1)
    empty = kpis(
        org,
        ["signup_source_quality"],
        group_by=["source"],
        date_from=date(2025, 1, 1),
        date_to=date(2025, 1, 2),
    )
    assert empty == []
    (total,) = kpis(org, ["signup_source_quality"], date_from=date(2025, 1, 1), date_to=date(2025, 1, 2))
    assert total["values"]["signup_source_quality"].value is None
