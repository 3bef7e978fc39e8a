"""Personal data held by the API app: webhook delivery payloads (a lead's or referral's fields
at the time of the event) and stored responses of idempotent POSTs. Registered with the
privacy registry. Rows are kept (delivery ids and statuses are an integration's audit trail);
their JSON is redacted."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from leadtrack.api.models import IdempotencyRecord, WebhookDelivery
from leadtrack.privacy.registry import Subject, redact_json, register


def _naming(model, field: str, subject: Subject, lead_match: Q | None = None):
    """Rows of ``model`` whose JSON ``field`` is about one of the subject's leads or names them."""
    conditions = [Q(json_text__icontains=identifier) for identifier in subject.identifiers]
    if lead_match is not None:
        conditions.append(lead_match)
    if not conditions:
        return model.objects.none()
    return (
        model.objects.filter(organization=subject.organization)
        .alias(json_text=Cast(field, TextField()))
        .filter(reduce(or_, conditions))
    )


def _deliveries(subject: Subject):
    ids = list(subject.lead_ids)
    return _naming(
        WebhookDelivery,
        "payload",
        subject,
        Q(payload__lead__id__in=ids) | Q(payload__referral__lead_id__in=ids),
    )


def _idempotency_records(subject: Subject):
    # By text only: a stored body's "id" may be an activity's or a referral's, not a lead's.
    return _naming(IdempotencyRecord, "response_body", subject)


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    return {
        "webhook_deliveries": list(
            _deliveries(subject)
            .order_by("created_at", "pk")
            .values("event_id", "event", "created_at", "payload")
        ),
        "idempotency_records": list(
            _idempotency_records(subject)
            .order_by("created_at", "pk")
            .values("created_at", "status_code", "response_body")
        ),
    }


def _redact_rows(queryset, field: str, subject: Subject) -> int:
    changed = 0
    for row in queryset.only("pk", field):
        redacted = redact_json(getattr(row, field), subject)
        if redacted != getattr(row, field):
            type(row).objects.filter(organization=subject.organization, pk=row.pk).update(**{field: redacted})
            changed += 1
    return changed


def _erase(subject: Subject) -> dict[str, int]:
    return {
        "webhook_deliveries": _redact_rows(_deliveries(subject), "payload", subject),
        "idempotency_records": _redact_rows(_idempotency_records(subject), "response_body", subject),
    }


register(
    "api",
    export=_export,
    erase=_erase,
    order=30,
    description=(
        "Webhook delivery payloads and stored responses of idempotent API requests (redacted, rows kept)."
    ),
)
