"""The signed inbound e-mail webhook: POST /hooks/email/<endpoint key>."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from leads.models import Activity, ActivityKind
from leadtrack.api.webhooks import sign
from leadtrack.tenancy.context import tenant_context
from reports.attribution.models import EmailEvent
from reports.attribution.services import email_endpoint_rotate
from tests.factories import make_lead


@pytest.fixture
def endpoint(org):
    with tenant_context(org):
        return email_endpoint_rotate(org=org, actor=None)


@pytest.fixture
def other_endpoint(other_org):
    with tenant_context(other_org):
        return email_endpoint_rotate(org=other_org, actor=None)


def event(event_id, kind, message_id="m1", email="jane@client.example", **extra):
    return {
        "id": event_id,
        "type": kind,
        "message_id": message_id,
        "email": email,
        "campaign": "Spring news",
        "occurred_at": "2025-05-01T14:00:00Z",
        **extra,
    }


def post(client, endpoint, body, *, timestamp=None, secret=None, headers=True, key=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    extra = {}
    if headers:
        extra = {
            "HTTP_X_LEADTRACK_TIMESTAMP": str(timestamp),
            "HTTP_X_LEADTRACK_SIGNATURE": sign(
                secret=secret or endpoint.secret, timestamp=timestamp, body=raw
            ),
        }
    return client.post(
        f"/hooks/email/{key or endpoint.key}", data=raw, content_type="application/json", **extra
    )


def stored(org):
    with tenant_context(org):
        return sorted(EmailEvent.objects.filter(organization=org).values_list("event_id", flat=True))


def opened_activities(org, lead):
    with tenant_context(org):
        return list(
            Activity.objects.filter(organization=org, lead=lead, kind=ActivityKind.EMAIL_OPENED).values_list(
                "subject", "occurred_at"
            )
        )


def test_a_signed_post_is_stored_and_matched_to_the_lead(client, org, endpoint):
    lead = make_lead(org, email="Jane@Client.example", contact_name="Jane")
    body = {
        "events": [
            event("e1", "delivered"),
            event("e2", "open"),
            event("e3", "open", occurred_at="2025-05-01T15:00:00Z"),
            event("e4", "click", url="https://acme.example/offer"),
        ]
    }
    response = post(client, endpoint, body)
    assert response.status_code == 200
    assert response.json() == {"received": 4, "stored": 4, "duplicates": 0}
    assert stored(org) == ["e1", "e2", "e3", "e4"]
    with tenant_context(org):
        assert set(EmailEvent.objects.values_list("lead_id", flat=True)) == {lead.pk}
    # The first open of the message goes on the timeline, once.
    activities = opened_activities(org, lead)
    assert len(activities) == 1
    assert activities[0][0] == "Opened Spring news"
    assert activities[0][1].isoformat() == "2025-05-01T14:00:00+00:00"


def test_a_replay_of_the_same_events_changes_nothing(client, org, endpoint):
    lead = make_lead(org, email="jane@client.example", contact_name="Jane")
    body = {"events": [event("e1", "delivered"), event("e2", "open")]}
    assert post(client, endpoint, body).status_code == 200
    again = post(client, endpoint, body)  # the service retries: a new timestamp, the same events
    assert again.status_code == 200
    assert again.json() == {"received": 2, "stored": 0, "duplicates": 2}
    assert stored(org) == ["e1", "e2"]
    assert len(opened_activities(org, lead)) == 1
    # A later second open of the same message is stored but is not a second timeline entry.
    assert post(client, endpoint, {"events": [event("e5", "open")]}).json()["stored"] == 1
    assert len(opened_activities(org, lead)) == 1


def test_an_event_for_an_unknown_address_is_kept_without_a_lead(client, org, endpoint):
    assert (
        post(client, endpoint, {"events": [event("e1", "open", email="nobody@x.example")]}).status_code == 200
    )
    with tenant_context(org):
        assert list(EmailEvent.objects.values_list("lead_id", flat=True)) == [None]


def test_a_post_without_signature_headers_is_401(client, org, endpoint):
    response = post(client, endpoint, {"events": [event("e1", "open")]}, headers=False)
    assert response.status_code == 401
    assert "X-LeadTrack-Signature" in response.json()["error"]
    assert stored(org) == []


def test_a_wrong_signature_is_403(client, org, endpoint):
    response = post(client, endpoint, {"events": [event("e1", "open")]}, secret="whsec_not-the-secret")
    assert response.status_code == 403
    assert stored(org) == []


def test_a_body_changed_after_signing_is_403(client, org, endpoint):
    timestamp = int(time.time())
    signed = json.dumps({"events": [event("e1", "open")]}).encode()
    response = client.post(
        f"/hooks/email/{endpoint.key}",
        data=json.dumps({"events": [event("e1", "unsubscribe")]}),
        content_type="application/json",
        HTTP_X_LEADTRACK_TIMESTAMP=str(timestamp),
        HTTP_X_LEADTRACK_SIGNATURE=sign(secret=endpoint.secret, timestamp=timestamp, body=signed),
    )
    assert response.status_code == 403
    assert stored(org) == []


def test_a_stale_timestamp_is_refused_even_with_a_valid_signature(client, org, endpoint):
    response = post(client, endpoint, {"events": [event("e1", "open")]}, timestamp=int(time.time()) - 301)
    assert response.status_code == 403
    assert "5-minute" in response.json()["error"]
    future = post(client, endpoint, {"events": [event("e1", "open")]}, timestamp=int(time.time()) + 301)
    assert future.status_code == 403
    assert stored(org) == []


def test_a_non_numeric_timestamp_is_403(client, org, endpoint):
    raw = b'{"events": []}'
    response = client.post(
        f"/hooks/email/{endpoint.key}",
        data=raw,
        content_type="application/json",
        HTTP_X_LEADTRACK_TIMESTAMP="yesterday",
        HTTP_X_LEADTRACK_SIGNATURE="v1=00",
    )
    assert response.status_code == 403


def test_malformed_json_is_a_clear_400(client, org, endpoint):
    response = post(client, endpoint, b'{"events": [')
    assert response.status_code == 400
    assert response.json()["error"].startswith("The body is not valid JSON")
    not_utf8 = post(client, endpoint, b"\xff\xfe\x00")
    assert not_utf8.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([event("e1", "open")], "events"),  # a bare list, not the documented object
        ({"events": []}, "events"),
        ({"events": [event("e1", "opened")]}, "events[0].type"),
        ({"events": [event("", "open")]}, "events[0].id"),
        ({"events": [event("e1", "open", email="not-an-address")]}, "events[0].email"),
        ({"events": [event("e1", "open", occurred_at="2025-05-01 14:00")]}, "events[0].occurred_at"),
        ({"events": [event("e1", "open", occurred_at="3025-05-01T14:00:00Z")]}, "events[0].occurred_at"),
        ({"events": [event("e1", "open", message_id=42)]}, "events[0].message_id"),
        ({"events": [event("e1", "open", campaign="x" * 201)]}, "events[0].campaign"),
        ({"events": ["e1"]}, "events[0]"),
    ],
)
def test_invalid_events_are_field_errors_and_nothing_is_stored(client, org, endpoint, body, field):
    response = post(client, endpoint, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert stored(org) == []


def test_one_bad_event_refuses_the_whole_post(client, org, endpoint):
    response = post(client, endpoint, {"events": [event("e1", "open"), event("e2", "nope")]})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events[1].type"]
    assert stored(org) == []


def test_an_unknown_key_is_404(client, org, endpoint):
    response = post(client, endpoint, {"events": [event("e1", "open")]}, key="no-such-key")
    assert response.status_code == 404


def test_only_post_is_allowed(client, endpoint):
    assert client.get(f"/hooks/email/{endpoint.key}").status_code == 405


def test_another_organizations_endpoint_cannot_write_into_this_one(
    client, org, other_org, endpoint, other_endpoint
):
    lead = make_lead(org, email="jane@client.example", contact_name="Jane")
    # Globex's own key and secret: stored in Globex only, never matched to Acme's lead.
    response = post(client, other_endpoint, {"events": [event("g1", "open")]})
    assert response.status_code == 200
    assert stored(other_org) == ["g1"]
    assert stored(org) == []
    assert opened_activities(org, lead) == []
    with tenant_context(other_org):
        assert list(EmailEvent.objects.values_list("lead_id", flat=True)) == [None]
    # Acme's key signed with Globex's secret: refused.
    forged = post(client, endpoint, {"events": [event("g2", "open")]}, secret=other_endpoint.secret)
    assert forged.status_code == 403
    assert stored(org) == []


def test_the_same_event_id_in_two_organizations_is_two_events(
    client, org, other_org, endpoint, other_endpoint
):
    assert post(client, endpoint, {"events": [event("same", "open")]}).json()["stored"] == 1
    assert post(client, other_endpoint, {"events": [event("same", "open")]}).json()["stored"] == 1


def test_rotation_retires_the_old_key_and_secret(client, org, endpoint):
    old_key, old_secret = endpoint.key, endpoint.secret
    with tenant_context(org):
        rotated = email_endpoint_rotate(org=org, actor=None)
    assert (rotated.key, rotated.secret) != (old_key, old_secret)
    body = {"events": [event("e1", "open")]}
    assert post(client, endpoint, body, key=old_key, secret=old_secret).status_code == 404
    assert post(client, rotated, body, secret=old_secret).status_code == 403
    assert post(client, rotated, body).status_code == 200


def test_without_the_lookup_setting_no_endpoint_is_visible(org, endpoint):
    # Row-level security: no organization and no presented key → the table looks empty.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM attribution_emailendpoint")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT set_config('app.email_endpoint_key', %s, true)", [endpoint.key])
        cursor.execute("SELECT count(*), min(organization_id) FROM attribution_emailendpoint")
        assert cursor.fetchone() == (1, org.pk)


def test_a_body_over_one_mebibyte_is_413(client, org, endpoint):
    events = [event(f"e{n}", "open", campaign="x" * 200) for n in range(4000)]
    body = json.dumps({"events": events}).encode()
    assert len(body) > 1024 * 1024
    response = post(client, endpoint, body)
    assert response.status_code == 413
    assert stored(org) == []


def test_more_than_1000_events_is_a_field_error(client, org, endpoint):
    response = post(client, endpoint, {"events": [event(f"e{n}", "open") for n in range(1001)]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"events": ["At most 1000 events per post."]}
