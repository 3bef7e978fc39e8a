"""Personal data held by e-mail engagement events (docs/email-events.md): the recipient's
address, the links they clicked, and the e-mail service's message id (which names one message to
one person at that service). Registered with the privacy registry (leadtrack/privacy/registry.py).

Erasure anonymises rather than deletes: the open, click and unsubscribe rates count distinct
messages per campaign, so the rows stay, the message id is replaced by a keyed hash (the same
message keeps the same stand-in, so no rate changes), and address and link are cleared. The event
id stays: it is the e-mail service's random id, and without it a replayed post would store the
person's address again.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower

from leadtrack.privacy.registry import Subject, register
from reports.attribution.models import EmailEvent

# Marks a message id already replaced, so a second run changes nothing.
PSEUDONYM_PREFIX = "erased:"


def _pseudonym(*, org_id: int, message_id: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{org_id}:{message_id}".encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:32]


def _events(subject: Subject):
    """Events matched to one of the subject's leads, and events to one of their addresses that
    arrived when no lead had it (the match is made once, on arrival)."""
    addresses = [identifier for identifier in subject.identifiers if "@" in identifier]
    return (
        EmailEvent.objects.filter(organization=subject.organization)
        .alias(recipient_lower=Lower("recipient"))
        .filter(Q(lead_id__in=subject.lead_ids) | Q(recipient_lower__in=addresses))
    )


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    return {
        "email_events": list(
            _events(subject)
            .order_by("occurred_at", "pk")
            .values(
                "event_id",
                "event_type",
                "message_id",
                "recipient",
                "campaign",
                "url",
                "occurred_at",
                "lead_id",
            )
        )
    }


def _erase(subject: Subject) -> dict[str, int]:
    org = subject.organization
    changed = []
    for event in _events(subject).order_by("pk"):
        values = {
            "recipient": "",
            "url": "",
            "message_id": event.message_id
            if event.message_id.startswith(PSEUDONYM_PREFIX)
            else _pseudonym(org_id=org.pk, message_id=event.message_id),
        }
        if any(getattr(event, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(event, field, value)
            changed.append(event)
    EmailEvent.objects.bulk_update(changed, ["recipient", "url", "message_id"], batch_size=500)
    return {"email_events": len(changed)}


register(
    "email_events",
    export=_export,
    erase=_erase,
    order=70,
    description=(
        "E-mail engagement events (delivered, opened, clicked, unsubscribed, bounced) to the person's "
        "address: recipient, clicked links and the e-mail service's message id."
    ),
)
