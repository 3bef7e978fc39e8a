"""A8 and T5 for the API: keys are hashed, scoped and revocable; no credentials → 401 on
every operation; a read-only key cannot write; people get their role's rights."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from leadtrack import caching
from leadtrack.api.models import ApiKey
from leadtrack.api.selectors import api_key_cache_key
from leadtrack.api.services import api_key_create, api_key_revoke
from leadtrack.tenancy.context import tenant_context
from tests.api.routes import VALUE_PARAMS, api_operations, request
from tests.api.world import build_world
from tests.factories import make_lead, verify_second_factor


@pytest.fixture
def mine(org, alice):
    return build_world(org, member=alice, canary="ACME")


def test_every_operation_without_credentials_is_a_401(mine):
    anonymous = APIClient()
    accepted = []
    operations = api_operations()
    for operation in operations:
        response = request(anonymous, operation, operation.path(**mine.ids, **VALUE_PARAMS))
        if response.status_code != 401:
            accepted.append((str(operation), response.status_code))
        else:
            assert response["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["type"] == "not_authenticated"
    print(f"\n[A8] operations={len(operations)} operations without auth accepted={len(accepted)}")
    assert accepted == []


def test_a_read_only_key_cannot_write_anywhere(mine, org, client_for):
    reader = client_for(org, ("read",))
    operations = api_operations()
    refused, reads_ok = [], []
    for operation in operations:
        response = request(reader, operation, operation.path(**mine.ids, **VALUE_PARAMS), {"company": "X"})
        if operation.unsafe:
            refused.append(response.status_code == 403)
        else:
            reads_ok.append(response.status_code == 200)
    print(
        f"\n[A8] read-only key: writes tried={len(refused)} refused={sum(refused)}; reads ok={sum(reads_ok)}"
    )
    assert all(refused) and all(reads_ok)


def test_a_bad_or_malformed_key_is_a_401(org):
    for header in ("Bearer lt_nope_nope", "Bearer", "Bearer a b", "Bearer lt_", "Bearer \u00e9"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/v1/leads/").status_code == 401


def _read_key_client(org, alice) -> tuple[ApiKey, str, APIClient]:
    """A new read-only key of ``org``, its raw value, and a client presenting it."""
    with tenant_context(org):
        key, raw = api_key_create(org=org, actor=alice, name="Warehouse", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return key, raw, client


def test_keys_are_stored_hashed_and_revocation_takes_effect_on_the_next_call(org, alice):
    key, raw, client = _read_key_client(org, alice)
    assert client.get("/api/v1/leads/").status_code == 200
    with tenant_context(org):
        key.refresh_from_db()
        assert key.last_used_at is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM api_apikey")
            dump = repr(cursor.fetchall())
    # raw = "lt_<prefix>_<secret>"; the secret itself may contain "_".
    assert raw not in dump and raw.split("_", 2)[2] not in dump
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    with tenant_context(org):
        api_key_revoke(org=org, key_id=key.pk)
    assert client.get("/api/v1/leads/").status_code == 401


def test_a_key_lives_in_its_organization_only(org, other_org, client_for, charlie):
    make_lead(other_org, company="Globex lead")
    acme = client_for(org, ("read",))
    assert acme.get("/api/v1/leads/").json()["results"] == []
    assert acme.get("/api/v1/leads/", HTTP_X_ORGANIZATION=other_org.slug).json()["results"] == []


class TestSessions:
    def _client(self, user, org_slug=None):
        client = APIClient()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        verify_second_factor(client, user)
        if org_slug:
            client.credentials(HTTP_X_ORGANIZATION=org_slug)
        return client

    def test_a_member_reads_with_the_organization_header_or_param(self, org, alice, mine):
        assert self._client(alice, org.slug).get("/api/v1/leads/").status_code == 200
        assert self._client(alice).get("/api/v1/leads/", {"org": org.slug}).status_code == 200

    def test_without_an_organization_or_as_an_outsider_it_is_a_404(self, org, alice, charlie):
        assert self._client(alice).get("/api/v1/leads/").status_code == 404
        assert self._client(charlie, org.slug).get("/api/v1/leads/").status_code == 404
        assert self._client(alice, "no-such-org").get("/api/v1/leads/").status_code == 404

    def test_a_viewer_reads_but_cannot_write(self, org, vera, mine):
        viewer = self._client(vera, org.slug)
        assert viewer.get(f"/api/v1/leads/{mine.ids['lead_id']}/").status_code == 200
        assert viewer.post("/api/v1/leads/", {"company": "X"}, format="json").status_code == 403
        assert viewer.delete(f"/api/v1/leads/{mine.ids['lead_id']}/").status_code == 403

    def test_a_rep_sees_only_their_own_leads(self, org, bob, alice, mine):
        rep = self._client(bob, org.slug)
        own = make_lead(org, company="Bob's", owner=bob)
        assert rep.get(f"/api/v1/leads/{mine.ids['lead_id']}/").status_code == 404
        assert [lead["id"] for lead in rep.get("/api/v1/leads/").json()["results"]] == [own.pk]
        assert rep.patch(f"/api/v1/leads/{own.pk}/", {"phone": "+1 555"}, format="json").status_code == 200


def test_without_an_organization_only_the_presented_prefix_is_visible(org, other_org, make_key):
    mine, theirs = make_key(org), make_key(other_org)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_apikey")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT set_config('app.api_key_prefix', %s, true)", [mine.split("_")[1]])
        cursor.execute("SELECT organization_id FROM api_apikey")
        assert cursor.fetchall() == [(org.pk,)]
        cursor.execute("UPDATE api_apikey SET name = 'x' WHERE prefix = %s", [mine.split("_")[1]])
        assert cursor.rowcount == 0  # the lookup policy is read-only
    assert theirs


def test_a_key_read_from_the_cache_follows_its_row_and_its_organization(org, alice):
    """Keys and organizations are read from the cache after the first call: a change to either
    is seen on the next call, and a deleted key is a 401 at once."""
    key, _, client = _read_key_client(org, alice)
    assert client.get("/api/v1/leads/").status_code == 200  # the key and the organization are now kept
    assert caching.shared_value(api_key_cache_key(key.prefix)).organization.time_zone == org.time_zone

    org.time_zone = "Pacific/Kiritimati"
    org.save()
    assert caching.shared_value(api_key_cache_key(key.prefix)) is None
    assert client.get("/api/v1/leads/").status_code == 200
    assert caching.shared_value(api_key_cache_key(key.prefix)).organization.time_zone == "Pacific/Kiritimati"
    with tenant_context(org):
        key.name = "Renamed"
        key.save()
    assert caching.shared_value(api_key_cache_key(key.prefix)) is None
    assert client.get("/api/v1/leads/").status_code == 200
    assert caching.shared_value(api_key_cache_key(key.prefix)).name == "Renamed"

    with tenant_context(org):
        key.delete()
    assert client.get("/api/v1/leads/").status_code == 401


def test_a_wrong_secret_with_a_cached_prefix_is_a_401(org, alice):
    _, raw, client = _read_key_client(org, alice)
    assert client.get("/api/v1/leads/").status_code == 200
    lt, prefix, secret = raw.split("_", 2)
    forged = APIClient()  # the cached prefix with another secret
    forged.credentials(
        HTTP_AUTHORIZATION=f"Bearer {lt}_{prefix}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    )
    assert forged.get("/api/v1/leads/").status_code == 401
