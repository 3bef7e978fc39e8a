"""R1/R2: rate limits counted atomically in Redis, per key and per organization."""

from __future__ import annotations

import threading

from django.db import connection
from rest_framework.test import APIClient


def test_parallel_requests_never_pass_the_limit(transactional_db, settings, org, make_key):
    settings.API_RATE_LIMITS = {"key": "10/day", "organization": "1000/day"}
    key = make_key(org, ("read",))
    barrier = threading.Barrier(30)
    results = []
    lock = threading.Lock()

    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait()
            response = client.get("/api/v1/sources/")
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [r for r in results if r.status_code == 200]
    limited = [r for r in results if r.status_code == 429]
    print(f"\n[R1] parallel requests=30 limit=10 successes={len(ok)} 429s={len(limited)}")
    assert len(ok) == 10 and len(limited) == 20
    for response in limited:
        assert int(response["Retry-After"]) >= 1
        assert response.json()["type"] == "throttled"
    assert ok[0]["RateLimit-Limit"] == "10"


def test_the_organization_limit_spans_its_keys_and_spares_other_tenants(settings, org, other_org, client_for):
    settings.API_RATE_LIMITS = {"key": "100/day", "organization": "5/day"}
    first, second, neighbour = client_for(org), client_for(org), client_for(other_org)
    statuses = [first.get("/api/v1/sources/").status_code for _ in range(3)]
    statuses += [second.get("/api/v1/sources/").status_code for _ in range(3)]
    assert statuses == [200] * 5 + [429]
    neighbour_statuses = [neighbour.get("/api/v1/sources/").status_code for _ in range(5)]
    print(f"\n[R2] tenant A limited after 5; tenant B errors={sum(s != 200 for s in neighbour_statuses)}")
    assert neighbour_statuses == [200] * 5


def test_every_response_says_how_much_is_left(settings, org, client_for):
    settings.API_RATE_LIMITS = {"key": "50/day", "organization": "500/day"}
    client = client_for(org)
    client.get("/api/v1/sources/")
    response = client.get("/api/v1/sources/")
    assert response["RateLimit-Limit"] == "50"
    assert response["RateLimit-Remaining"] == "48"
    assert int(response["RateLimit-Reset"]) > 0
