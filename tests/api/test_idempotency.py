"""D1: Idempotency-Key on POST — one row per key, the same answer on a retry, 422 on reuse."""

from __future__ import annotations

import threading

from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead
from leadtrack.api.models import IdempotencyRecord
from leadtrack.tenancy.context import tenant_context

BODY = {"company": "Initech", "email": "peter@initech.example"}


def _lead_count(org) -> int:
    with tenant_context(org):
        return Lead.objects.filter(deleted_at__isnull=True).count()


def test_a_retry_with_the_same_key_and_body_returns_the_first_response(acme_api, org):
    first = acme_api.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = acme_api.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["ETag"] == first["ETag"] and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert _lead_count(org) == 1
    print(f"\n[D1] sequential retry: rows created per key={_lead_count(org)}")


def test_the_same_key_with_another_body_is_a_422(acme_api, org):
    acme_api.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = acme_api.post(
        "/api/v1/leads/", {**BODY, "company": "Hooli"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert other.json()["type"] == "idempotency_key_reused"
    assert _lead_count(org) == 1


def test_a_stored_error_is_replayed_too_and_keys_are_per_organization(acme_api, globex_api, org, other_org):
    bad = acme_api.post("/api/v1/leads/", {"email": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert acme_api.post(
        "/api/v1/leads/", {"email": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    ).json() == (bad.json())
    theirs = globex_api.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert theirs.status_code == 201
    assert _lead_count(other_org) == 1


def test_without_a_key_nothing_is_recorded(acme_api, org):
    acme_api.post("/api/v1/leads/", BODY, format="json")
    with tenant_context(org):
        assert IdempotencyRecord.objects.count() == 0


def test_twenty_concurrent_identical_posts_create_one_row(transactional_db, org, make_key):
    key = make_key(org, ("write",))
    barrier = threading.Barrier(20)
    responses = []
    lock = threading.Lock()

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait()
            response = client.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            with lock:
                responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = _lead_count(org)
    print(f"\n[D1] concurrent identical POSTs=20 rows created per key={rows}")
    assert rows == 1
    assert {status for status, _ in responses} == {201}
    assert len({body["id"] for _, body in responses}) == 1


def test_an_oversized_body_is_a_400_in_the_one_shape(acme_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = acme_api.post(
        "/api/v1/leads/", {"company": "X", "notes": "n" * 2000}, format="json", HTTP_IDEMPOTENCY_KEY="big"
    )
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_keys_are_forgotten_after_a_day(acme_api, org, settings):
    from datetime import timedelta

    from django.utils import timezone

    from leadtrack.api.tasks import idempotency_records_purge_all

    acme_api.post("/api/v1/leads/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="old")
    acme_api.post("/api/v1/leads/", {"company": "Fresh"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    with tenant_context(org):
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    idempotency_records_purge_all.delay()
    with tenant_context(org):
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
