"""Identification: a visitor's page views become page visits on the lead's timeline, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from capture.signals import visitor_identified
from capture.tracking import services
from capture.tracking.models import PageView, Visitor
from leads.models import Activity, ActivityKind
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.tracking.test_drain import accept, event

VID = "visitor-three-visits"


def three_visits(site, drain, now):
    """Three visits a day apart, each of one page, with their own campaign and referrer."""
    visits = [
        (
            "https://acme.example/?utm_source=partner&utm_campaign=cert",
            "https://partner.example/",
            now - timedelta(days=3),
        ),
        (
            "https://acme.example/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=may",
            "",
            now - timedelta(days=2),
        ),
        ("https://acme.example/contact", "https://search.example/", now - timedelta(days=1)),
    ]
    for url, referrer, at in visits:
        accept(site, event(VID, url, referrer=referrer), at=at)
        drain()


def page_visits(org, lead):
    with tenant_context(org):
        return list(
            Activity.objects.filter(organization=org, lead=lead, kind=ActivityKind.PAGE_VISIT)
            .order_by("occurred_at")
            .values_list("url", "referrer_url", "utm_source", "utm_medium", "utm_campaign")
        )


def test_three_visits_then_identification_put_all_three_on_the_timeline(
    site, org, drain, django_capture_on_commit_callbacks
):
    three_visits(site, drain, timezone.now())
    lead = make_lead(org, email="pat@customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        visitor_identified.send(
            sender=None, organization_id=org.pk, lead_id=lead.pk, visitor_id=VID, via="form"
        )
    assert page_visits(org, lead) == [
        (
            "https://acme.example/?utm_source=partner&utm_campaign=cert",
            "https://partner.example/",
            "partner",
            "",
            "cert",
        ),
        (
            "https://acme.example/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=may",
            "",
            "newsletter",
            "email",
            "may",
        ),
        ("https://acme.example/contact", "https://search.example/", "", "", ""),
    ]
    with tenant_context(org):
        visitor = Visitor.objects.get(visitor_id=VID)
        assert (visitor.lead_id, visitor.identified_via) == (lead.pk, "form")
        assert PageView.objects.filter(activity__isnull=True).count() == 0


def test_the_lead_page_shows_the_page_visits(site, org, alice, login, drain):
    three_visits(site, drain, timezone.now())
    lead = make_lead(org, email="pat@customer.example")
    with tenant_context(org):
        services.visitor_identify(org=org, visitor_id=VID, lead_id=lead.pk, via="api")
    page = login(alice).get(f"/o/{org.slug}/leads/{lead.pk}/").content.decode()
    assert page.count("Page visit") >= 3
    assert "UTM: partner /  / cert" in page
    assert "UTM: newsletter / email / may" in page


def test_identifying_twice_creates_no_duplicates(site, org, drain):
    three_visits(site, drain, timezone.now())
    lead = make_lead(org)
    with tenant_context(org):
        assert services.visitor_identify(org=org, visitor_id=VID, lead_id=lead.pk, via="form") == 3
        assert services.visitor_identify(org=org, visitor_id=VID, lead_id=lead.pk, via="api") == 0
    assert len(page_visits(org, lead)) == 3


def test_later_page_views_of_an_identified_visitor_join_the_timeline_when_drained(site, org, drain):
    now = timezone.now()
    lead = make_lead(org)
    accept(site, event(VID, "https://acme.example/first"), at=now - timedelta(hours=2))
    drain()
    with tenant_context(org):
        services.visitor_identify(org=org, visitor_id=VID, lead_id=lead.pk, via="form")
    accept(site, event(VID, "https://acme.example/later?utm_source=ads"), at=now)
    drain()
    assert [row[0] for row in page_visits(org, lead)] == [
        "https://acme.example/first",
        "https://acme.example/later?utm_source=ads",
    ]


def test_a_signal_with_a_malformed_or_missing_visitor_id_is_ignored(org):
    lead = make_lead(org)
    visitor_identified.send(sender=None, organization_id=org.pk, lead_id=lead.pk, visitor_id="", via="form")
    visitor_identified.send(
        sender=None, organization_id=org.pk, lead_id=lead.pk, visitor_id="x y", via="form"
    )
    with tenant_context(org):
        assert Visitor.objects.count() == 0


def test_a_visitor_of_another_organization_is_not_linked(site, other_site, org, other_org, drain):
    accept(other_site, event(VID, "https://globex.example/"), at=datetime.now(UTC))
    drain()
    lead = make_lead(org)
    with tenant_context(org):
        assert services.visitor_identify(org=org, visitor_id=VID, lead_id=lead.pk, via="api") == 0
    with tenant_context(other_org):
        assert PageView.objects.get().activity_id is None
