"""Personal data held by tenancy: invitations sent to the subject's address. Registered with the
privacy registry. People's own accounts are global, not a tenant's records, and are not
erased by an organization's request."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone

from leadtrack.privacy.registry import Subject, register
from leadtrack.tenancy.models import Invitation


def _invitations(subject: Subject):
    if not subject.email:
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(organization=subject.organization)
        .alias(email_lower=Lower("email"))
        .filter(email_lower=subject.email)
    )


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    rows = (
        _invitations(subject)
        .order_by("pk")
        .values("email", "role", "created_at", "accepted_at", "revoked_at")
    )
    return {"invitations": list(rows)}


def _erase(subject: Subject) -> dict[str, int]:
    changed = 0
    now = timezone.now()
    for invitation in _invitations(subject).order_by("pk"):
        invitation.email = f"erased-{invitation.pk}@erased.invalid"
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = now
        invitation.save(update_fields=["email", "revoked_at"])
        changed += 1
    return {"invitations": changed}


register(
    "tenancy",
    export=_export,
    erase=_erase,
    order=10,
    description="Invitations to the organization sent to the subject's address (address replaced, revoked).",
)
