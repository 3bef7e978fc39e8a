"""The issue's "done when", as a new integration would go: a key from the command, the docs page,
1,000 leads in one bulk call, one lead moved through the funnel, signed webhooks received on a
local receiver, and 429 with Retry-After when it floods."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from leadtrack.api import webhooks
from leadtrack.api.models import WebhookEndpoint
from leadtrack.api.services import webhook_endpoint_create
from leadtrack.tenancy.context import tenant_context
from tests.api.test_webhooks import Receiver


def test_a_new_integration_end_to_end(org, alice, settings, django_capture_on_commit_callbacks):
    receiver = Receiver()
    try:
        out = StringIO()
        call_command(
            "create_api_key", "--org", org.slug, "--scopes", "read,write", "--name", "Sync", stdout=out
        )
        key = out.getvalue().strip().splitlines()[-1]
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

        assert api.get("/api/v1/docs/").status_code == 200

        with tenant_context(org):
            endpoint = webhook_endpoint_create(
                org=org, actor=alice, url=receiver.url, events=["lead.stage_changed"]
            )
        items = [{"company": f"Acme {n}", "email": f"buyer{n}@example.com"} for n in range(1000)]
        with django_capture_on_commit_callbacks(execute=True):
            bulk = api.post("/api/v1/leads/bulk/", {"items": items}, format="json")
        assert bulk.json()["summary"]["created"] == 1000

        lead_id = bulk.json()["results"][0]["lead_id"]
        etag = api.get(f"/api/v1/leads/{lead_id}/")["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            for stage, extra in (("mql", {}), ("sql", {}), ("opportunity", {"amount": 900000}), ("won", {})):
                moved = api.post(
                    f"/api/v1/leads/{lead_id}/transitions/",
                    {"to_stage": stage, **extra},
                    format="json",
                    HTTP_IF_MATCH=etag,
                )
                assert moved.status_code == 201, moved.json()
                etag = moved["ETag"]
        assert api.get(f"/api/v1/leads/{lead_id}/").json()["stage"] == "won"

        with tenant_context(org):
            secret = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
        received = [json.loads(r["body"])["data"]["to_stage"] for r in receiver.requests]
        assert received == ["mql", "sql", "opportunity", "won"]
        assert all(
            webhooks.verify(
                secret=secret,
                timestamp=r["headers"]["X-LeadTrack-Timestamp"],
                body=r["body"],
                signature=r["headers"]["X-LeadTrack-Signature"],
            )
            for r in receiver.requests
        )

        settings.API_RATE_LIMITS = {"key": "20/day", "organization": "1000/day"}
        statuses = [api.get("/api/v1/leads/") for _ in range(25)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited and int(limited[0]["Retry-After"]) > 0
        print(
            f"\n[done-when] bulk created=1000 stage moves=4 "
            f"signed webhooks received={len(receiver.requests)} "
            f"flood 429s={len(limited)}"
        )
    finally:
        receiver.stop()
