"""Webhook delivery: one task per attempt, retried with exponential backoff."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from leadtrack.api import services
from leadtrack.api.models import WebhookDelivery
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask


@shared_task(base=OrgTask, acks_late=True)
def deliver_webhook(*, organization_id: int, delivery_id: int, attempt: int) -> str:
    """Attempt number ``attempt`` of a delivery; a failure schedules the next one after the backoff.

    The next attempt is a new message rather than Celery's ``retry()``: the body runs
    in one transaction, and the failed attempt's record must commit with it.
    """
    delivery = services.webhook_delivery_attempt(
        org=current_organization(), delivery_id=delivery_id, attempt=attempt
    )
    if delivery is None:
        return "skipped"
    if delivery.status == WebhookDelivery.Status.RETRYING:
        countdown = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
        kwargs = {"organization_id": organization_id, "delivery_id": delivery_id, "attempt": attempt + 1}
        transaction.on_commit(lambda: deliver_webhook.apply_async(kwargs=kwargs, countdown=countdown))
    return delivery.status


@shared_task(base=OrgTask)
def idempotency_records_purge(*, organization_id: int) -> int:
    return services.idempotency_records_purge(org=current_organization())


@shared_task
def idempotency_records_purge_all() -> None:
    """Daily beat fan-out: one purge per organization (Organization is not tenant-owned)."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        idempotency_records_purge.delay(organization_id=organization_id)
