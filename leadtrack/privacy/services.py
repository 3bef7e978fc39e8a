"""Writes and documents of the privacy app: subject export (Art. 15/20), erasure (Art. 17),
retention. Every holder of personal data is reached through the registry (registry.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from leads.models import Activity, Lead
from leadtrack.accounts.models import User
from leadtrack.privacy import registry, selectors
from leadtrack.privacy.models import ErasedLead, ErasureLog, ErasureReason, PrivacySettings
from leadtrack.privacy.registry import Subject
from leadtrack.tenancy.models import Organization

EXPORT_SCHEMA_ID = "leadtrack.subject-export.v1"
# Leads anonymised per holder pass in retention: bounds the identifiers each pass scrubs for.
RETENTION_CHUNK = 200


def email_hash(*, org: Organization, email: str) -> str:
    """Keyed hash of an address: recognises a repeated request, cannot be read back or guessed."""
    message = f"{org.pk}:{email.strip().lower()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _jsonable(document: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def subject_export(*, org: Organization, email: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the organization holds about ``email``, as one JSON document (schema.py).

    Only ``org``'s rows: the same address in another organization is another controller's
    subject. Raises ValidationError (field ``email``) for an invalid address.
    """
    subject = selectors.subject_resolve(org=org, email=email)
    holders, counts = {}, {}
    for holder in registry.holders():
        records = holder.export(subject)
        holders[holder.name] = {"description": holder.description, "records": records}
        counts.update({f"{holder.name}.{kind}": len(rows) for kind, rows in records.items()})
    return _jsonable(
        {
            "schema": EXPORT_SCHEMA_ID,
            "generated_at": now or timezone.now(),
            "organization": {"slug": org.slug, "name": org.name},
            "subject": {"email": subject.email, "lead_ids": sorted(subject.lead_ids)},
            "holders": holders,
            "counts": counts,
            "total_records": sum(counts.values()),
        }
    )


def _erase_subject(subject: Subject) -> dict[str, int]:
    counts: dict[str, int] = {}
    for holder in registry.holders():
        for kind, changed in holder.erase(subject).items():
            counts[f"{holder.name}.{kind}"] = counts.get(f"{holder.name}.{kind}", 0) + changed
    return counts


def _mark_erased(*, org: Organization, erasure: ErasureLog, lead_ids: Iterable[int], now: datetime) -> None:
    ErasedLead.objects.bulk_create(
        [ErasedLead(organization=org, lead_id=pk, erasure=erasure, erased_at=now) for pk in lead_ids],
        ignore_conflicts=True,
    )


@transaction.atomic
def subject_erase(
    *, org: Organization, actor: User | None, email: str, now: datetime | None = None
) -> ErasureLog:
    """Erase ``email`` from ``org`` in one transaction and log it (no personal data in the log).

    Lead rows are anonymised, not deleted, so funnel counts and metrics stay as they were;
    history, activities' free text, referrals, webhook and idempotency payloads and import
    files are scrubbed by their holders. Another organization's records are not touched.
    Raises ValidationError (field ``email``) for an invalid address.
    """
    now = now or timezone.now()
    subject = selectors.subject_resolve(org=org, email=email)
    counts = _erase_subject(subject)
    erasure = ErasureLog.objects.create(
        organization=org,
        email_hash=email_hash(org=org, email=subject.email),
        reason=ErasureReason.REQUEST,
        actor=actor,
        erased_at=now,
        lead_count=len(subject.lead_ids),
        counts=counts,
    )
    _mark_erased(org=org, erasure=erasure, lead_ids=subject.lead_ids, now=now)
    return erasure


@transaction.atomic
def leads_erase(
    *,
    org: Organization,
    actor: User | None,
    lead_ids: Sequence[int],
    reason: str,
    now: datetime | None = None,
) -> ErasureLog:
    """Anonymise the given leads through the same holders as a subject's erasure."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for start in range(0, len(lead_ids), RETENTION_CHUNK):
        subject = selectors.subject_for_leads(org=org, lead_ids=lead_ids[start : start + RETENTION_CHUNK])
        for key, changed in _erase_subject(subject).items():
            counts[key] = counts.get(key, 0) + changed
    erasure = ErasureLog.objects.create(
        organization=org, reason=reason, actor=actor, erased_at=now, lead_count=len(lead_ids), counts=counts
    )
    _mark_erased(org=org, erasure=erasure, lead_ids=lead_ids, now=now)
    return erasure


@transaction.atomic
def privacy_settings_update(
    *, org: Organization, actor: User | None, retention_months: int | None
) -> PrivacySettings:
    """Set (or clear, with None) the retention period. Raises ValidationError (field errors)."""
    current = PrivacySettings.objects.select_for_update().filter(organization=org).first()
    current = current or PrivacySettings(organization=org)
    current.retention_months = retention_months
    current.full_clean(exclude=["organization"])
    current.save()
    return current


def retention_due(*, org: Organization, now: datetime) -> list[int]:
    """Leads past the organization's retention period and not yet anonymised: closed, deleted,
    or untouched (no edit, no activity) for longer than the period. Empty when retention is off."""
    months = selectors.privacy_settings_get(org=org).retention_months
    if not months:
        return []
    cutoff = now - relativedelta(months=months)
    recent_activity = Activity.objects.filter(organization=org, lead=OuterRef("pk"), occurred_at__gte=cutoff)
    return list(
        Lead.objects.filter(organization=org)
        .exclude(pk__in=ErasedLead.objects.filter(organization=org).values("lead_id"))
        .filter(
            Q(closed_at__lt=cutoff)
            | Q(deleted_at__lt=cutoff)
            | (Q(updated_at__lt=cutoff) & ~Exists(recent_activity))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def retention_run(*, org: Organization, now: datetime | None = None) -> ErasureLog | None:
    """Anonymise the leads past retention; None when there are none. Idempotent: an anonymised
    lead is marked and never selected again."""
    now = now or timezone.now()
    due = retention_due(org=org, now=now)
    if not due:
        return None
    return leads_erase(org=org, actor=None, lead_ids=due, reason=ErasureReason.RETENTION, now=now)
