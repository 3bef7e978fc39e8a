"""Settings → API: keys shown once, revoked; webhook endpoints, deliveries and replay; ownership."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from leadtrack.api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from leadtrack.api.services import api_key_create, emit, webhook_endpoint_create
from leadtrack.tenancy.context import tenant_context


def _raw_key_in(html: str) -> str:
    return re.search(r'value="(lt_[^"]+)"', html).group(1)


def test_an_admin_creates_a_key_sees_it_once_and_it_works(login, alice, org):
    client = login(alice)
    page = client.post(
        f"/o/{org.slug}/settings/api/", {"action": "create_key", "name": "HubSpot sync", "scopes": ["read"]}
    )
    assert page.status_code == 200
    raw = _raw_key_in(page.content.decode())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/leads/").status_code == 200
    listing = client.get(f"/o/{org.slug}/settings/api/").content.decode()
    assert "HubSpot sync" in listing and raw not in listing


def test_a_key_needs_a_name_and_a_known_scope(login, alice, org):
    page = login(alice).post(
        f"/o/{org.slug}/settings/api/", {"action": "create_key", "name": "", "scopes": ["root"]}
    )
    assert page.status_code == 200
    with tenant_context(org):
        assert ApiKey.objects.count() == 0


def test_revoking_a_key_takes_effect_at_once(login, alice, org):
    with tenant_context(org):
        key, raw = api_key_create(org=org, actor=alice, name="Old", scopes=["read"])
    response = login(alice).post(f"/o/{org.slug}/settings/api/keys/{key.pk}/revoke/")
    assert response.status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/leads/").status_code == 401


def test_endpoints_are_added_listed_and_their_deliveries_replayed(
    login, alice, org, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    client = login(alice)
    page = client.post(
        f"/o/{org.slug}/settings/api/",
        {"action": "create_endpoint", "url": "http://127.0.0.1:9/hook", "events": ["lead.created"]},
    )
    assert "whsec_" in page.content.decode()
    with tenant_context(org):
        endpoint = WebhookEndpoint.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})  # port 9 refuses: the delivery fails
    detail = client.get(f"/o/{org.slug}/settings/api/webhooks/{endpoint.pk}/").content.decode()
    assert "lead.created" in detail
    with tenant_context(org):
        WebhookDelivery.objects.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        replay = client.post(f"/o/{org.slug}/settings/api/deliveries/{delivery.pk}/replay/")
    assert replay.status_code == 302
    with tenant_context(org):
        delivery.refresh_from_db()
    assert delivery.attempts >= 2
    toggled = client.post(f"/o/{org.slug}/settings/api/webhooks/{endpoint.pk}/active/", {"active": "0"})
    assert toggled.status_code == 302
    assert client.post(f"/o/{org.slug}/settings/api/webhooks/{endpoint.pk}/delete/").status_code == 302


def test_a_private_target_is_refused_in_the_form(login, alice, org, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    page = login(alice).post(
        f"/o/{org.slug}/settings/api/",
        {"action": "create_endpoint", "url": "http://169.254.169.254/", "events": ["lead.created"]},
    )
    assert "private" in page.content.decode()


@pytest.mark.parametrize("user", ["mike", "bob", "vera"])
def test_only_admins_manage_keys(request, login, org, user):
    assert login(request.getfixturevalue(user)).get(f"/o/{org.slug}/settings/api/").status_code == 403


def test_another_organizations_keys_endpoints_and_deliveries_are_404(
    login, alice, charlie, org, other_org, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with tenant_context(other_org):
        key, _ = api_key_create(org=other_org, actor=charlie, name="Theirs", scopes=["read"])
        endpoint = webhook_endpoint_create(
            org=other_org, actor=charlie, url="http://127.0.0.1:9/x", events=["lead.created"]
        )
        delivery = WebhookDelivery.objects.create(
            organization=other_org, endpoint=endpoint, event="lead.created", payload={}, status="failed"
        )
    client = login(alice)
    base = f"/o/{org.slug}/settings/api"
    assert client.post(f"{base}/keys/{key.pk}/revoke/").status_code == 404
    assert client.get(f"{base}/webhooks/{endpoint.pk}/").status_code == 404
    assert client.post(f"{base}/webhooks/{endpoint.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"{base}/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert client.post(f"{base}/deliveries/{delivery.pk}/replay/").status_code == 404
    assert "Theirs" not in client.get(f"{base}/").content.decode()
    with tenant_context(other_org):
        key.refresh_from_db()
    assert key.revoked_at is None
