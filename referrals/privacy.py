"""Personal data held by the referral program: what a referrer submitted about a person (the
partner sees it in the portal), and partner contacts. Registered with the privacy registry."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from leadtrack.privacy.registry import REDACTED, Subject, register, scrub_text
from referrals.models import Partner, Referral, ReferralEvent

REFERRAL_EXPORT_FIELDS = (
    "id",
    "lead_id",
    "company",
    "contact_name",
    "email",
    "phone",
    "website",
    "country",
    "notes",
    "status",
    "referrer_kind",
    "submitted_at",
    "privacy_notice_at",
    "accepted_at",
    "expires_at",
    "closed_at",
    "conflict_reason",
    "rejection_reason",
)


def _referrals(subject: Subject):
    match = Q(lead_id__in=subject.lead_ids)
    if subject.email:
        match |= Q(email_lower=subject.email)
    return (
        Referral.objects.filter(organization=subject.organization)
        .alias(email_lower=Lower("email"))
        .filter(match)
    )


def _partner_contacts(subject: Subject):
    if not subject.email:
        return Partner.objects.none()
    return (
        Partner.objects.filter(organization=subject.organization)
        .alias(email_lower=Lower("contact_email"))
        .filter(email_lower=subject.email)
    )


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    referrals = list(
        _referrals(subject).order_by("pk").values(*REFERRAL_EXPORT_FIELDS, "program__name", "partner__name")
    )
    events = ReferralEvent.objects.filter(
        organization=subject.organization, referral_id__in=[row["id"] for row in referrals]
    ).order_by("at", "pk")
    history: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        history.setdefault(event.referral_id, []).append({"status": event.status, "at": event.at})
    for row in referrals:
        row["program"] = row.pop("program__name")
        row["partner"] = row.pop("partner__name") or ""
        row["status_history"] = history.get(row["id"], [])
    partner_contacts = list(
        _partner_contacts(subject).order_by("pk").values("id", "name", "contact_name", "contact_email")
    )
    return {"referrals": referrals, "partner_contacts": partner_contacts}


def _erase(subject: Subject) -> dict[str, int]:
    identifiers = subject.identifiers
    referrals = 0
    for referral in _referrals(subject).select_for_update().order_by("pk"):
        values = {
            "company": scrub_text(referral.company, identifiers),
            "contact_name": REDACTED,
            "email": "",
            "phone": "",
            "notes": "",
            "website": "" if subject.names_in(referral.website) else referral.website,
            "domain": "" if subject.names_in(referral.domain) else referral.domain,
            "conflict_reason": scrub_text(referral.conflict_reason, identifiers),
            "rejection_reason": scrub_text(referral.rejection_reason, identifiers),
        }
        if all(getattr(referral, field) == value for field, value in values.items()):
            continue
        Referral.objects.filter(organization=subject.organization, pk=referral.pk).update(**values)
        referrals += 1
    partner_contacts = _partner_contacts(subject).update(contact_name="", contact_email="")
    return {"referrals": referrals, "partner_contacts": partner_contacts}


register(
    "referrals",
    export=_export,
    erase=_erase,
    order=20,
    description=(
        "Referrals (deal registrations): the contact a referrer submitted, notes, review reasons, "
        "status history; partner contacts with the subject's address."
    ),
)
