"""Quarters without the demo: an empty quarter, a quarter in another time zone, the e-mail job."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from leads.models import Lead, Source
from leadtrack.tenancy.context import tenant_context
from reports.quarterly import services, tasks
from reports.quarterly.exports import report_markdown
from reports.quarterly.models import ReportDelivery, ReportSubscription
from reports.quarterly.pdf import report_pdf
from reports.quarterly.selectors import Quarter, quarterly_report
from tests.factories import make_lead, verify_second_factor

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_empty_quarter_renders_dashes_and_no_data(org, mike, client):
    client.force_login(mike)
    verify_second_factor(client, mike)
    response = client.get("/o/acme/reports/referrals/2031-Q3/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No data for Q3 2031" in html
    assert "Q3 2031 has no referral-generated leads (no data)." in html
    assert "<strong>no data</strong>" in html  # Q2 2031
    assert html.count("—") >= 8
    markdown = client.get("/o/acme/reports/referrals/2031-Q3/?format=md").content.decode()
    assert "| Lead to MQL | — | 30% |" in markdown
    assert "| No data | — | — |" in markdown
    for fmt in ("pdf", "xlsx", "csv"):
        assert client.get(f"/o/acme/reports/referrals/2031-Q3/?format={fmt}").status_code == 200


@pytest.fixture
def pacific(org):
    org.time_zone = "America/Los_Angeles"
    org.save()
    with tenant_context(org):
        source = Source.objects.create(organization=org, name="Partner Network", is_referral=True)
        Source.objects.create(organization=org, name="Paid Search", is_referral=False)
    return org, source


def _created(org, lead, at: datetime) -> None:
    with tenant_context(org):
        Lead.objects.filter(pk=lead.pk).update(created_at=at)


def test_quarter_is_the_organizations_local_calendar(pacific):
    org, source = pacific
    late = make_lead(org, company="Late Night Co", source=source)
    _created(org, late, datetime(2025, 6, 30, 23, 30, tzinfo=LOS_ANGELES))  # 1 July 06:30 UTC
    early = make_lead(org, company="Early Bird Co", source=source)
    _created(org, early, datetime(2025, 4, 1, 0, 15, tzinfo=LOS_ANGELES))
    before = make_lead(org, company="Too Early Co", source=source)
    _created(org, before, datetime(2025, 3, 31, 23, 59, tzinfo=LOS_ANGELES))  # 1 April 06:59 UTC: Q1
    with tenant_context(org):
        q2 = quarterly_report(org=org, quarter=Quarter(2025, 2))
        q3 = quarterly_report(org=org, quarter=Quarter(2025, 3))
    assert [month["leads"] for month in q2["monthly"]] == [1, 0, 1]
    assert q2["growth"]["previous_referral_leads"] == 1
    assert q2["growth"]["value"] == 1.0
    assert q3["totals"]["leads"] == 0


def test_non_referral_leads_are_left_out(pacific):
    org, _ = pacific
    with tenant_context(org):
        paid = Source.objects.get(name="Paid Search")
    lead = make_lead(org, company="Ads Co", source=paid)
    _created(org, lead, datetime(2025, 5, 5, 10, tzinfo=LOS_ANGELES))
    with tenant_context(org):
        report = quarterly_report(org=org, quarter=Quarter(2025, 2))
    assert report["totals"]["leads"] == 0
    assert report["sources"] == []


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2025, 7, 1, 6, 30, tzinfo=LOS_ANGELES), None),  # before 07:00 on the first working day
        (datetime(2025, 7, 1, 7, 5, tzinfo=LOS_ANGELES), Quarter(2025, 2)),
        (datetime(2025, 10, 1, 9, tzinfo=LOS_ANGELES), Quarter(2025, 3)),
        (datetime(2026, 1, 2, 9, tzinfo=LOS_ANGELES), Quarter(2025, 4)),  # 1 Jan 2026 is a Thursday
        (datetime(2025, 8, 14, 9, tzinfo=LOS_ANGELES), None),
    ],
)
def test_quarter_due(pacific, now, due):
    org, _ = pacific
    assert services.quarter_due(org=org, now=now) == due


def test_first_working_day_skips_the_weekend():
    assert services.first_working_day(datetime(2026, 4, 1).date()).isoformat() == "2026-04-01"
    assert services.first_working_day(datetime(2028, 7, 1).date()).isoformat() == "2028-07-03"  # a Saturday


def test_email_goes_out_once_per_quarter(pacific, mike, vera, settings, monkeypatch):
    org, source = pacific
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lead = make_lead(org, company="Mailed Co", source=source)
    _created(org, lead, datetime(2025, 5, 5, 10, tzinfo=LOS_ANGELES))
    with tenant_context(org):
        services.report_subscription_set(org=org, user=mike, subscribed=True)
    monkeypatch.setattr(services.timezone, "now", lambda: datetime(2025, 7, 1, 15, tzinfo=UTC))

    assert tasks.quarterly_report_email_fanout.delay().get() == [org.pk]
    assert tasks.quarterly_report_email_fanout.delay().get() == []  # recorded: not queued again
    tasks.quarterly_report_email_task.delay(organization_id=org.pk, year=2025, quarter=2)  # a duplicate run

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mike@acme.example"]
    assert "referral report Q2 2025" in message.subject
    assert "| May | 1 | 0 | 0 | 0 |" in message.body
    assert message.attachments[0][1].startswith(b"%PDF")
    with tenant_context(org):
        assert ReportDelivery.objects.filter(year=2025, quarter=2).count() == 1


def test_no_email_without_subscribers(pacific, settings, monkeypatch):
    org, _ = pacific
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(services.timezone, "now", lambda: datetime(2025, 7, 1, 15, tzinfo=UTC))
    assert tasks.quarterly_report_email_fanout.delay().get() == []
    with tenant_context(org):
        assert services.report_email_send(org=org, quarter=Quarter(2025, 2)) is None
        assert not ReportSubscription.objects.exists()
    assert mail.outbox == []


def test_manager_subscribes_from_the_page(org, mike, client):
    client.force_login(mike)
    verify_second_factor(client, mike)
    url = "/o/acme/reports/referrals/2025-Q2/"
    response = client.post("/o/acme/reports/referrals/subscription/", {"subscribe": "on", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert b"Stop e-mailing me" in client.get(url).content
    client.post("/o/acme/reports/referrals/subscription/", {"next": url})
    with tenant_context(org):
        assert not ReportSubscription.objects.exists()


def test_empty_exports_build(org):
    with tenant_context(org):
        report = quarterly_report(org=org, quarter=Quarter(2024, 4))
    assert "*No data for this quarter.*" in report_markdown(report)
    assert report_pdf(report).startswith(b"%PDF")
