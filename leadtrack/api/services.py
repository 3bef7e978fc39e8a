"""Writes of the integrations app: API keys, webhook endpoints, webhook events and deliveries."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from leadtrack import caching
from leadtrack.accounts.models import User
from leadtrack.api import webhooks
from leadtrack.api.models import (
    ApiKey,
    IdempotencyRecord,
    Scope,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from leadtrack.api.selectors import KEY_PREFIX, hash_key
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role

logger = logging.getLogger(__name__)


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    unknown = [scope for scope in cleaned if scope not in Scope.values]
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope: {', '.join(unknown)}. Use {', '.join(Scope.values)}."}
        )
    if not cleaned:
        raise ValidationError({"scopes": "Pick at least one scope."})
    return cleaned


@transaction.atomic
def api_key_create(
    *, org: Organization, actor: User | None, name: str, scopes: Iterable[str]
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the raw secret, which is shown once and never stored.
    Runs inside the organization (tenant_context)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the key a name (what uses it)."})
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        organization=org,
        name=name[:100],
        prefix=prefix,
        key_hash=hash_key(raw_key),
        scopes=_clean_scopes(scopes),
        created_by=actor,
    )
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, org: Organization, key_id: int) -> ApiKey:
    """Revoke at once: the next request with the key gets 401. Raises ApiKey.DoesNotExist (→ 404)."""
    key = ApiKey.objects.select_for_update().get(organization=org, pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


API_KEY_TOUCH_SECONDS = 60
# key id → when this process last saw the key's minute claimed (time.monotonic()).
_touched_in_this_process: dict[int, float] = {}


def api_key_touch(*, key: ApiKey) -> None:
    """Record use at most once a minute, so a busy key does not write on every request.
    Runs with the key's organization active.

    The minute is claimed in the cache, across processes (the key row is read from the cache
    too, where its ``last_used_at`` is as old as the entry); each process remembers when it
    last saw a claim, so a busy key costs no cache call either.
    """
    seen = _touched_in_this_process.get(key.pk)
    now_monotonic = time.monotonic()
    if seen is not None and now_monotonic - seen < API_KEY_TOUCH_SECONDS:
        return
    _touched_in_this_process[key.pk] = now_monotonic
    if cache.add(f"api:key-used:{key.pk}", True, API_KEY_TOUCH_SECONDS):
        now = timezone.now()
        ApiKey.objects.filter(organization=key.organization_id, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def _clean_events(events: Iterable[str]) -> list[str]:
    cleaned = sorted(set(events))
    unknown = [event for event in cleaned if event not in WebhookEvent.values]
    if unknown:
        raise ValidationError({"events": f"Unknown event: {', '.join(unknown)}."})
    if not cleaned:
        raise ValidationError({"events": "Pick at least one event."})
    return cleaned


@transaction.atomic
def webhook_endpoint_create(
    *, org: Organization, actor: User | None, url: str, events: Iterable[str], description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint; its signing secret is generated here. Refuses private targets (SSRF)."""
    webhooks.resolve_target(url)
    endpoint = WebhookEndpoint(
        organization=org,
        url=url,
        events=_clean_events(events),
        description=description.strip()[:200],
        secret="whsec_" + secrets.token_hex(24),
        created_by=actor,
    )
    endpoint.full_clean(exclude=["organization", "created_by"])
    endpoint.save()
    _forget_subscriptions(org.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_set_active(*, org: Organization, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """Enable (clears the failure streak) or disable an endpoint. Raises DoesNotExist (→ 404)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(organization=org, pk=endpoint_id)
    endpoint.is_active = active
    if active:
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    else:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Disabled by an administrator."
    endpoint.save()
    _forget_subscriptions(org.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, org: Organization, endpoint_id: int) -> None:
    WebhookEndpoint.objects.get(organization=org, pk=endpoint_id).delete()
    _forget_subscriptions(org.pk)


PayloadSource = Mapping[str, Any] | Callable[[], Mapping[str, Any]]

# Events with at least one active endpoint, per organization, cached so that a write in an
# organization without webhooks (most of them) costs no SQL (leadtrack/caching.py).
SUBSCRIPTIONS_TTL_SECONDS = 60


def _subscriptions_cache_key(organization_id: int) -> str:
    return f"webhooks:subscribed-events:{organization_id}"


def _forget_subscriptions(organization_id: int) -> None:
    caching.forget(_subscriptions_cache_key(organization_id))


def subscribed(organization_id: int, event: str) -> bool:
    """Whether an active endpoint of the organization listens to ``event`` (cached, so an
    organization without webhooks pays no SQL per event, and in a request no Redis read)."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")

    def read() -> list[str]:
        org = Organization.objects.get(pk=organization_id)
        with tenant_context(org):
            rows = WebhookEndpoint.objects.filter(organization=org, is_active=True).values_list(
                "events", flat=True
            )
            return sorted({event for row in rows for event in row})

    key = _subscriptions_cache_key(organization_id)
    return event in caching.read_through(key, SUBSCRIPTIONS_TTL_SECONDS, read)


def emit(organization_id: int, event: str, payload: PayloadSource) -> list[int]:
    """Queue ``event`` for every active endpoint of the organization subscribed to it.

    ``payload`` is the event's data (JSON-serializable), or a function building it,
    called only when someone listens. Deliveries are sent by Celery after the
    surrounding transaction commits. Returns the delivery ids.
    """
    return emit_many(organization_id, event, lambda: [payload() if callable(payload) else payload])


def emit_many(
    organization_id: int, event: str, payloads: Callable[[], Sequence[Mapping[str, Any]]]
) -> list[int]:
    """``emit`` for many events of one kind (a bulk import's new leads): the subscriptions and
    endpoints are read once, ``payloads`` is called once (only when someone listens) and the
    deliveries are written in one statement."""
    from leadtrack.api.tasks import deliver_webhook

    if not subscribed(organization_id, event):
        return []
    org = Organization.objects.get(pk=organization_id)
    with tenant_context(org):
        endpoints = list(
            WebhookEndpoint.objects.filter(organization=org, is_active=True, events__contains=[event]).only(
                "pk"
            )
        )
        if not endpoints:
            return []
        documents = [json.loads(json.dumps(data, cls=DjangoJSONEncoder)) for data in payloads()]
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(organization=org, endpoint=endpoint, event=event, payload=data)
                for data in documents
                for endpoint in endpoints
            ]
        )
        for delivery in deliveries:
            deliver_webhook.delay_on_commit(organization_id=org.pk, delivery_id=delivery.pk, attempt=1)
        return [delivery.pk for delivery in deliveries]


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed): the same on every attempt."""
    document = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure: base · 2^(n-1), capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def _disable_failing_endpoint(*, org: Organization, endpoint: WebhookEndpoint, now) -> None:
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = "Deliveries failed for a day."
    _forget_subscriptions(org.pk)
    admins = list(
        Membership.objects.filter(organization=org, role=Role.ADMIN).values_list("user__email", flat=True)
    )
    subject = f"[LeadTrack] Webhook endpoint disabled: {endpoint.url}"
    message = (
        f"Deliveries to {endpoint.url} for {org.name} have failed since "
        f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC, so the endpoint was disabled.\n"
        f"Fix the receiver, then enable it again and replay the failed deliveries:\n"
        f"{settings.SITE_URL.rstrip('/')}/o/{org.slug}/settings/api/\n"
    )
    if admins:
        transaction.on_commit(lambda: send_mail(subject, message, None, admins))


@transaction.atomic
def webhook_delivery_attempt(*, org: Organization, delivery_id: int, attempt: int) -> WebhookDelivery | None:
    """Send one delivery once, as attempt number ``attempt``.

    Idempotent against duplicated task messages (a worker retry, a redelivery after
    a crash): the delivery row is locked, and an attempt that is not the next one,
    or a delivery already delivered, sends nothing. Returns the delivery (its
    ``status`` RETRYING means the caller schedules attempt+1 at ``next_attempt_at``),
    or None when there is nothing to do.
    """
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(organization=org, pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.attempts != attempt - 1:
        return None
    if delivery.status not in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING):
        return None
    endpoint = delivery.endpoint
    now = timezone.now()
    delivery.attempts = attempt
    delivery.last_attempt_at = now
    delivery.next_attempt_at = None
    if not endpoint.is_active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.last_error = "The endpoint is disabled."
        delivery.save()
        return delivery
    try:
        target = webhooks.resolve_target(endpoint.url)
    except ValidationError as exc:
        result = webhooks.PostResult(None, " ".join(exc.messages)[:500])
        permanent = True
    else:
        body = delivery_body(delivery)
        timestamp = int(time.time())
        result = webhooks.post(
            target=target,
            body=body,
            headers={
                "X-LeadTrack-Delivery": str(delivery.event_id),
                "X-LeadTrack-Event": delivery.event,
                "X-LeadTrack-Timestamp": str(timestamp),
                "X-LeadTrack-Signature": webhooks.sign(
                    secret=endpoint.secret, timestamp=timestamp, body=body
                ),
            },
        )
        permanent = False
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    if result.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
    else:
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        if now - endpoint.failing_since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
            _disable_failing_endpoint(org=org, endpoint=endpoint, now=now)
        endpoint.save(update_fields=["failing_since", "is_active", "disabled_at", "disabled_reason"])
        if permanent or not endpoint.is_active or attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + retry_delay(attempt)
    delivery.save()
    logger.info(
        "webhook delivery %s attempt %s to endpoint %s: %s %s",
        delivery.pk,
        attempt,
        endpoint.pk,
        delivery.status,
        result.status_code or result.error,
    )
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, org: Organization, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (same delivery id, so a receiver that processed it can ignore it).

    Raises WebhookDelivery.DoesNotExist (→ 404), ValidationError when the endpoint is disabled.
    """
    from leadtrack.api.tasks import deliver_webhook

    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .get(organization=org, pk=delivery_id)
    )
    if not delivery.endpoint.is_active:
        raise ValidationError("Enable the endpoint before replaying its deliveries.")
    if delivery.status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING):
        raise ValidationError("This delivery is still being attempted.")
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "next_attempt_at"])
    deliver_webhook.delay_on_commit(
        organization_id=org.pk, delivery_id=delivery.pk, attempt=delivery.attempts + 1
    )
    return delivery


@transaction.atomic
def idempotency_records_purge(*, org: Organization) -> int:
    """Forget Idempotency-Keys older than settings.API_IDEMPOTENCY_KEY_HOURS; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(organization=org, created_at__lt=cutoff).delete()
    return deleted
