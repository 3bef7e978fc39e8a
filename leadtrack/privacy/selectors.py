"""Reads of the privacy app: who the subject is, the settings, the erasure log."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, TextField
from django.db.models.functions import Cast, Lower

from leads.models import Lead, LeadChange
from leadtrack.privacy.models import ErasureLog, PrivacySettings
from leadtrack.privacy.registry import Subject
from leadtrack.tenancy.models import Organization
from referrals.models import Referral

# Shorter strings would match inside unrelated words when scrubbing free text.
MIN_IDENTIFIER_LENGTH = 3
IDENTITY_FIELDS = ("email", "contact_name", "phone")


def normalize_subject_email(email: str) -> str:
    """The address as the subject key: trimmed, lower-case, valid. Raises ValidationError."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from exc
    return email


def _with_merges(*, org: Organization, lead_ids: set[int]) -> set[int]:
    """Add leads merged into the set and the leads the set was merged into, to a fixed point:
    a merge is a person's decision that two leads are the same person."""
    while True:
        related = set(
            Lead.objects.filter(organization=org)
            .filter(
                Q(merged_into_id__in=lead_ids)
                | Q(pk__in=Lead.objects.filter(organization=org, pk__in=lead_ids).values("merged_into_id"))
            )
            .values_list("pk", flat=True)
        )
        if related <= lead_ids:
            return lead_ids
        lead_ids |= related


def _identifiers(*, org: Organization, email: str, lead_ids: Iterable[int]) -> frozenset[str]:
    values = {email} if email else set()
    for row in Lead.objects.filter(organization=org, pk__in=lead_ids).values(*IDENTITY_FIELDS):
        values.update(row.values())
    for changes in LeadChange.objects.filter(organization=org, lead_id__in=lead_ids).values_list(
        "changes", flat=True
    ):
        for field in IDENTITY_FIELDS:
            values.update(value for value in changes.get(field, []) if isinstance(value, str))
    match = Q(lead_id__in=lead_ids) | Q(email_lower=email) if email else Q(lead_id__in=lead_ids)
    referrals = Referral.objects.filter(organization=org).alias(email_lower=Lower("email")).filter(match)
    for row in referrals.values(*IDENTITY_FIELDS):
        values.update(row.values())
    return frozenset(
        value.strip().lower()
        for value in values
        if value and len(value.strip()) >= MIN_IDENTIFIER_LENGTH and not value.startswith("Erased #")
    )


def subject_resolve(*, org: Organization, email: str) -> Subject:
    """The subject ``email`` in ``org``: every lead with that address now (live, deleted, merged)
    or in its change history, the leads merged with those, and the identifiers naming them.

    Raises ValidationError (field ``email``) for an invalid address. Runs in the tenant context.
    """
    email = normalize_subject_email(email)
    lead_ids = set(
        Lead.objects.filter(organization=org)
        .alias(e=Lower("email"))
        .filter(e=email)
        .values_list("pk", flat=True)
    )
    # The history keeps old values as JSON text: '"jane@x.com"' with its quotes is the whole value.
    lead_ids |= set(
        LeadChange.objects.filter(organization=org)
        .alias(text=Cast("changes", TextField()))
        .filter(text__icontains=f'"{email}"')
        .values_list("lead_id", flat=True)
    )
    lead_ids |= set(
        Referral.objects.filter(organization=org, lead__isnull=False)
        .alias(e=Lower("email"))
        .filter(e=email)
        .values_list("lead_id", flat=True)
    )
    lead_ids = _with_merges(org=org, lead_ids=lead_ids)
    return Subject(
        organization=org,
        email=email,
        lead_ids=frozenset(lead_ids),
        identifiers=_identifiers(org=org, email=email, lead_ids=lead_ids),
    )


def subject_for_leads(*, org: Organization, lead_ids: Iterable[int]) -> Subject:
    """The leads themselves as the subject (retention): no address asked about."""
    lead_ids = frozenset(lead_ids)
    return Subject(
        organization=org,
        email="",
        lead_ids=lead_ids,
        identifiers=_identifiers(org=org, email="", lead_ids=lead_ids),
    )


def privacy_settings_get(*, org: Organization) -> PrivacySettings:
    """The organization's settings; defaults (retention off) when never saved."""
    return PrivacySettings.objects.filter(organization=org).first() or PrivacySettings(organization=org)


def erasure_log_recent(*, org: Organization, limit: int = 50) -> list[ErasureLog]:
    return list(
        ErasureLog.objects.filter(organization=org)
        .select_related("actor")
        .order_by("-erased_at", "-pk")[:limit]
    )
