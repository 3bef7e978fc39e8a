"""/api/v1/tracking/events and /api/v1/tracking/identify: scopes, roles, ownership, field errors."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from capture.tracking import stream
from capture.tracking.models import PageView
from leads.models import Activity
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.tracking.conftest import event


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    settings.API_RATE_LIMITS = {"key": "100000/min", "organization": "100000/min"}


def api(org, scopes=("read", "write")) -> APIClient:
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="Server", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_server_side_events_are_accepted_and_drained(org, site, drain):
    occurred = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    response = api(org).post(
        "/api/v1/tracking/events/",
        {"site": site.key, "events": [event(occurred_at=occurred, ip="2001:db8:1:2::5"), event()]},
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 2}
    assert drain() == 2
    with tenant_context(org):
        assert sorted(PageView.objects.values_list("ip_prefix", flat=True), key=str) == ["2001:db8:1::", None]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": [event()]}, "site"),
        ({"site": "ts_unknown-site-key", "events": [event()]}, "site"),
        ({"site": "KEY", "events": []}, "events.non_field_errors"),
        ({"site": "KEY", "events": [{"url": "https://acme.example/"}]}, "events.0.event_id"),
        ({"site": "KEY", "events": [event(), event(occurred_at="yesterday")]}, "events.1.occurred_at"),
        ({"site": "KEY", "events": [event(url="https://elsewhere.example/")]}, "events.0.url"),
        ({"site": "KEY", "events": [event(occurred_at="2020-01-01T00:00:00Z")]}, "events.0.occurred_at"),
        ({"site": "KEY", "events": "x"}, "events.non_field_errors"),
    ],
)
def test_bad_events_are_field_errors(org, site, body, field):
    if body.get("site") == "KEY":
        body = {**body, "site": site.key}
    response = api(org).post("/api/v1/tracking/events/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert stream.length() == 0


def test_another_organizations_site_is_refused(org, other_site):
    response = api(org).post(
        "/api/v1/tracking/events/", {"site": other_site.key, "events": [event()]}, format="json"
    )
    assert response.status_code == 400
    assert "site" in response.json()["errors"]


def test_a_read_only_key_may_not_send_events_or_identify(org, site):
    client = api(org, scopes=("read",))
    assert (
        client.post(
            "/api/v1/tracking/events/", {"site": site.key, "events": [event()]}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/tracking/identify/", {"visitor_id": "visitor-0001", "lead_id": 1}, format="json"
        ).status_code
        == 403
    )


def test_identify_by_lead_id_or_email(org, site, drain):
    from tests.tracking.test_drain import accept

    accept(site, event("visitor-0001", "https://acme.example/a"), at=timezone.now())
    drain()
    lead = make_lead(org, email="Pat@Customer.example")
    client = api(org)
    response = client.post(
        "/api/v1/tracking/identify/",
        {"visitor_id": "visitor-0001", "email": "pat@customer.example"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"visitor_id": "visitor-0001", "lead_id": lead.pk, "page_visits": 1}
    again = client.post(
        "/api/v1/tracking/identify/", {"visitor_id": "visitor-0001", "lead_id": lead.pk}, format="json"
    )
    assert again.json()["page_visits"] == 1
    with tenant_context(org):
        assert Activity.objects.filter(lead=lead, kind="page_visit").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"visitor_id": "visitor-0001"}, "lead_id"),
        ({"visitor_id": "visitor-0001", "lead_id": 1, "email": "a@b.example"}, "lead_id"),
        ({"visitor_id": "bad id!", "lead_id": 1}, "visitor_id"),
        ({"visitor_id": "visitor-0001", "lead_id": "x"}, "lead_id"),
        ({"visitor_id": "visitor-0001", "email": "not-an-email"}, "email"),
    ],
)
def test_identify_bad_input_is_field_errors(org, body, field):
    response = api(org).post("/api/v1/tracking/identify/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_identify_with_another_organizations_lead_is_404(org, other_org):
    theirs = make_lead(other_org, email="theirs@globex.example")
    client = api(org)
    assert (
        client.post(
            "/api/v1/tracking/identify/", {"visitor_id": "visitor-0001", "lead_id": theirs.pk}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/tracking/identify/",
            {"visitor_id": "visitor-0001", "email": "theirs@globex.example"},
            format="json",
        ).status_code
        == 404
    )


def test_a_sales_rep_session_may_not_use_tracking_endpoints(org, bob, client, site):
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/api/v1/tracking/identify/?org=acme",
        {"visitor_id": "visitor-0001", "lead_id": 1},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_endpoints_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/tracking/events/" in schema
    assert "/api/v1/tracking/identify/" in schema
    assert "tracking_identify" in schema
