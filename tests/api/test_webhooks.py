"""Webhooks: signed deliveries to a real HTTP receiver on 127.0.0.1, retries with backoff,
no duplicate delivery on a worker retry, disabling after a day of failures, SSRF guard (I8)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from leadtrack.api import webhooks
from leadtrack.api.models import WebhookDelivery, WebhookEndpoint
from leadtrack.api.services import emit, webhook_delivery_replay, webhook_endpoint_create
from leadtrack.api.tasks import deliver_webhook
from leadtrack.tenancy.context import tenant_context


class Receiver:
    """An HTTP server answering each POST with the next scripted status (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/leadtrack"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(org, alice, receiver):
    with tenant_context(org):
        return webhook_endpoint_create(
            org=org,
            actor=alice,
            url=receiver.url,
            events=["lead.created", "lead.updated", "lead.stage_changed", "referral.created"],
        )


def _deliveries(org):
    with tenant_context(org):
        return list(WebhookDelivery.objects.order_by("pk"))


def _verified(request, secret) -> bool:
    headers = request["headers"]
    return webhooks.verify(
        secret=secret,
        timestamp=headers["X-LeadTrack-Timestamp"],
        body=request["body"],
        signature=headers["X-LeadTrack-Signature"],
    )


def test_a_lead_created_through_the_api_is_delivered_signed(
    acme_api, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = acme_api.post("/api/v1/leads/", {"company": "Initech"}, format="json")
    assert created.status_code == 201
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    document = json.loads(request["body"])
    assert request["path"] == "/hooks/leadtrack"
    assert request["headers"]["X-LeadTrack-Event"] == "lead.created"
    assert request["headers"]["X-LeadTrack-Delivery"] == document["id"]
    assert document["event"] == "lead.created"
    assert document["data"]["lead"]["id"] == created.json()["id"]
    assert document["data"]["via"] == "api"
    assert _verified(request, endpoint.secret)
    assert not _verified(request, "whsec_wrong")
    tampered = {**request, "body": request["body"].replace(b"Initech", b"Evil Co")}
    assert not _verified(tampered, endpoint.secret)
    print("\n[webhooks] signature verified by the receiver=1 tampered accepted=0")


def test_leads_created_by_the_bulk_import_path_are_each_delivered(
    org, alice, endpoint, receiver, django_capture_on_commit_callbacks
):
    """The set-based import announces its leads with one leads_created signal: still one
    lead.created delivery per new lead, with the import as its channel."""
    from leads.imports.services import leads_upsert_bulk

    rows = [{"company": f"Bulk {n}", "email": f"bulk{n}@bulk{n}.example"} for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        results = leads_upsert_bulk(org=org, actor=alice, rows=rows, via="import")
    documents = [json.loads(request["body"]) for request in receiver.requests]
    assert sorted(document["data"]["lead"]["id"] for document in documents) == sorted(
        result.lead_id for result in results
    )
    assert {(document["event"], document["data"]["via"]) for document in documents} == {
        ("lead.created", "import")
    }


def test_stage_changes_and_updates_are_events_too(
    acme_api, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_id = acme_api.post("/api/v1/leads/", {"company": "Initech"}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        acme_api.patch(f"/api/v1/leads/{lead_id}/", {"phone": "+1 555"}, format="json")
        acme_api.post(f"/api/v1/leads/{lead_id}/transitions/", {"to_stage": "mql"}, format="json")
    events = [r["headers"]["X-LeadTrack-Event"] for r in receiver.requests]
    assert events == ["lead.created", "lead.updated", "lead.stage_changed"]
    stage = json.loads(receiver.requests[-1]["body"])["data"]
    assert (stage["from_stage"], stage["to_stage"]) == ("lead", "mql")
    assert json.loads(receiver.requests[1]["body"])["data"]["changes"] == {"phone": ["", "+1 555"]}


def test_an_endpoint_gets_only_the_events_it_picked(org, alice, receiver, django_capture_on_commit_callbacks):
    with tenant_context(org):
        webhook_endpoint_create(org=org, actor=alice, url=receiver.url, events=["referral.created"])
    with django_capture_on_commit_callbacks(execute=True):
        assert emit(org.pk, "lead.created", {"lead": {"id": 1}}) == []
        assert len(emit(org.pk, "referral.created", {"referral": {"id": 7}})) == 1
    assert [json.loads(r["body"])["data"] for r in receiver.requests] == [{"referral": {"id": 7}}]


def test_failed_attempts_are_retried_with_the_same_delivery_id(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.script = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})
    [delivery] = _deliveries(org)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 3
    assert [r["headers"]["X-LeadTrack-Delivery"] for r in receiver.requests] == [str(delivery.event_id)] * 3
    assert all(_verified(r, endpoint.secret) for r in receiver.requests)
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    print(f"\n[D11] webhook attempts={delivery.attempts} after two 5xx, delivered once")


def test_the_backoff_doubles_up_to_its_cap(settings):
    from leadtrack.api.services import retry_delay

    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8)] == [30, 60, 120, 3600]


def test_a_worker_retry_of_a_delivered_message_sends_nothing(
    org, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})
    [delivery] = _deliveries(org)
    # The same message redelivered (acks_late after a crash), and a stale retry message.
    assert deliver_webhook.apply(
        kwargs={"organization_id": org.pk, "delivery_id": delivery.pk, "attempt": 1}
    ).get() == ("skipped")
    assert deliver_webhook.apply(
        kwargs={"organization_id": org.pk, "delivery_id": delivery.pk, "attempt": 2}
    ).get() == ("skipped")
    print(f"\n[D7] webhook task redelivered=2 duplicate HTTP deliveries={len(receiver.requests) - 1}")
    assert len(receiver.requests) == 1


def test_replay_sends_the_same_delivery_again(org, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})
    [delivery] = _deliveries(org)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        webhook_delivery_replay(org=org, delivery_id=delivery.pk)
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert _deliveries(org)[0].attempts == 2


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_admins_told(
    org, alice, mike, endpoint, receiver, django_capture_on_commit_callbacks
):
    with tenant_context(org):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(hours=25)
        )
    receiver.script = [500] * 20
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})
    [delivery] = _deliveries(org)
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    assert endpoint.url in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert emit(org.pk, "lead.created", {"lead": {"id": 2}}) == []


PRIVATE_TARGETS = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "http://user:secret@93.184.216.34/hook",
]


def test_private_and_odd_targets_are_refused(settings, org, alice):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    refused = 0
    for url in PRIVATE_TARGETS:
        with pytest.raises(ValidationError), tenant_context(org):
            webhook_endpoint_create(org=org, actor=alice, url=url, events=["lead.created"])
        refused += 1
    with tenant_context(org):
        webhook_endpoint_create(
            org=org, actor=alice, url="https://93.184.216.34/hook", events=["lead.created"]
        )
    print(f"\n[I8] URLs tried={len(PRIVATE_TARGETS)} refused={refused} fetched=0")


def test_a_target_that_became_private_is_refused_at_delivery(
    settings, org, endpoint, receiver, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        emit(org.pk, "lead.created", {"lead": {"id": 1}})
    [delivery] = _deliveries(org)
    assert receiver.requests == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "private" in delivery.last_error


def test_referral_events_are_delivered_with_their_status(
    org, alice, bob, receiver, django_capture_on_commit_callbacks
):
    """referral.created and referral.status_changed reach a subscribed endpoint, signed like lead events."""
    from referrals import services as referral_services
    from referrals.models import ReferrerKind

    with tenant_context(org):
        endpoint = webhook_endpoint_create(
            org=org, actor=alice, url=receiver.url, events=["referral.created", "referral.status_changed"]
        )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        program = referral_services.program_for_employees(org=org)
        submission = referral_services.referral_submit(
            org=org,
            program_id=program.pk,
            referrer=referral_services.Referrer(kind=ReferrerKind.EMPLOYEE, employee=bob),
            data={"company": "Umbrella", "contact_name": "Ada Wong", "email": "ada@umbrella.example"},
            submitted_by=bob,
            via="ui",
        )
    referral = submission.referral
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        referral_services.referral_reject(org=org, actor=alice, referral_id=referral.pk, reason="Not a fit")
    documents = [
        (r["headers"]["X-LeadTrack-Event"], json.loads(r["body"])["data"]) for r in receiver.requests
    ]
    created = [data for event, data in documents if event == "referral.created"]
    changes = [
        (data["from_status"], data["to_status"]) for event, data in documents if event != "referral.created"
    ]
    # Submitting with no conflict accepts at once (a status change too); then the rejection.
    assert len(created) == 1 and created[0]["referral"]["id"] == referral.pk
    assert created[0]["referral"]["email"] == "ada@umbrella.example" and "notes" not in created[0]["referral"]
    assert changes[-1] == ("accepted", "rejected")
    assert all(_verified(r, endpoint.secret) for r in receiver.requests)
