"""Writes of the e-mail engagement webhook: its endpoint and secret, and the events it receives."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leads.models import ActivityKind, Lead, Via
from leads.services import activity_log
from leadtrack.accounts.models import User
from leadtrack.pgarrays import array_literal
from leadtrack.tenancy.models import Organization
from reports.attribution.models import EmailEndpoint, EmailEvent, EmailEventType

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_POST = 1000
# Events may be posted late (the service retries for hours) but not from the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
_EMAIL = EmailValidator()


@transaction.atomic
def email_endpoint_rotate(*, org: Organization, actor: User | None) -> EmailEndpoint:
    """Create the organization's endpoint, or give it a new key and secret.

    The old key and secret stop working at once: a leaked secret is why one rotates.
    """
    endpoint = EmailEndpoint.objects.select_for_update().filter(organization=org).first()
    now = timezone.now()
    if endpoint is None:
        endpoint = EmailEndpoint(organization=org, created_at=now)
    else:
        endpoint.rotated_at = now
    endpoint.key = secrets.token_urlsafe(24)
    endpoint.secret = "whsec_" + secrets.token_hex(24)
    endpoint.save()
    logger.info(
        "email endpoint %s for organization %s by user %s",
        "rotated" if endpoint.rotated_at else "created",
        org.pk,
        actor.pk if actor else None,
    )
    return endpoint


@dataclass(frozen=True)
class ParsedEvent:
    event_id: str
    event_type: str
    message_id: str
    recipient: str
    campaign: str
    url: str
    occurred_at: datetime


def _text(event: dict, name: str, *, required: bool, max_length: int, errors: dict, where: str) -> str:
    value = event.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[f"{where}.{name}"] = ["Must be a string."]
        return ""
    value = value.strip()
    if required and not value:
        errors[f"{where}.{name}"] = ["This field is required."]
    elif len(value) > max_length:
        errors[f"{where}.{name}"] = [f"At most {max_length} characters."]
    return value


def email_events_parse(*, payload: Any, now: datetime) -> list[ParsedEvent]:
    """The events of a post (docs/email-events.md), or ValidationError with one error per bad field.

    The whole post is refused when one event is bad: the sender fixes and resends it, and
    the events already stored are skipped by their ids.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise ValidationError({"events": ['Send a JSON object with a list: {"events": [...]}.']})
    events = payload["events"]
    if not events:
        raise ValidationError({"events": ["The list is empty."]})
    if len(events) > MAX_EVENTS_PER_POST:
        raise ValidationError({"events": [f"At most {MAX_EVENTS_PER_POST} events per post."]})
    errors: dict[str, list[str]] = {}
    parsed = []
    for index, event in enumerate(events):
        where = f"events[{index}]"
        if not isinstance(event, dict):
            errors[where] = ["Must be an object."]
            continue
        event_id = _text(event, "id", required=True, max_length=200, errors=errors, where=where)
        event_type = _text(event, "type", required=True, max_length=20, errors=errors, where=where)
        if event_type and event_type not in EmailEventType.values:
            errors[f"{where}.type"] = [f"Choose one of {', '.join(EmailEventType.values)}."]
        message_id = _text(event, "message_id", required=True, max_length=200, errors=errors, where=where)
        recipient = _text(event, "email", required=True, max_length=254, errors=errors, where=where)
        if recipient and f"{where}.email" not in errors:
            try:
                _EMAIL(recipient)
            except ValidationError:
                errors[f"{where}.email"] = ["Enter a valid e-mail address."]
        campaign = _text(event, "campaign", required=False, max_length=200, errors=errors, where=where)
        url = _text(event, "url", required=False, max_length=2000, errors=errors, where=where)
        raw_time = _text(event, "occurred_at", required=True, max_length=40, errors=errors, where=where)
        occurred_at = None
        if raw_time and f"{where}.occurred_at" not in errors:
            try:
                occurred_at = parse_datetime(raw_time)
            except ValueError:
                occurred_at = None
            if occurred_at is None or occurred_at.tzinfo is None:
                errors[f"{where}.occurred_at"] = ["An ISO 8601 date-time with a time zone (e.g. ...Z)."]
            elif occurred_at > now + FUTURE_TOLERANCE:
                errors[f"{where}.occurred_at"] = ["Cannot be in the future."]
        if not any(key.startswith(where) for key in errors):
            parsed.append(
                ParsedEvent(event_id, event_type, message_id, recipient.lower(), campaign, url, occurred_at)
            )
    if errors:
        raise ValidationError(errors)
    return parsed


@dataclass(frozen=True)
class RecordResult:
    received: int
    stored: int  # new events; the rest had been received before (same event id)
    activities: int


_INSERT = """
INSERT INTO attribution_emailevent
    (organization_id, event_id, event_type, message_id, recipient, campaign, url, occurred_at,
     received_at, lead_id)
SELECT %(org)s, x.event_id, x.event_type, x.message_id, x.recipient, x.campaign, x.url, x.occurred_at,
       %(now)s, x.lead_id
FROM unnest(%(event_ids)s::text[], %(event_types)s::text[], %(message_ids)s::text[], %(recipients)s::text[],
            %(campaigns)s::text[], %(urls)s::text[], %(times)s::timestamptz[], %(lead_ids)s::bigint[])
     AS x(event_id, event_type, message_id, recipient, campaign, url, occurred_at, lead_id)
ON CONFLICT (organization_id, event_id) DO NOTHING
RETURNING id, event_type, message_id, lead_id, campaign, occurred_at
"""


@transaction.atomic
def email_events_record(
    *, org: Organization, events: Sequence[ParsedEvent], now: datetime | None = None
) -> RecordResult:
    """Store the events of one post, once per event id (a replay or a retry stores nothing new).

    Each event is matched to the lead with its recipient's e-mail (case-insensitive). The
    first open of a message whose lead is known also goes on the lead's timeline as an
    ``email_opened`` activity (the activity kinds have no click or unsubscribe).
    """
    now = now or timezone.now()
    unique = list({event.event_id: event for event in events}.values())
    recipients = {event.recipient for event in unique}
    leads = dict(
        # Lead.email_lower with its unique index's condition: an index lookup under row-level security.
        Lead.objects.filter(organization=org, deleted_at__isnull=True, email_lower__in=recipients)
        .exclude(email="")
        .values_list("email_lower", "id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            {
                "org": org.pk,
                "now": now,
                "event_ids": array_literal(e.event_id for e in unique),
                "event_types": array_literal(e.event_type for e in unique),
                "message_ids": array_literal(e.message_id for e in unique),
                "recipients": array_literal(e.recipient for e in unique),
                "campaigns": array_literal(e.campaign for e in unique),
                "urls": array_literal(e.url for e in unique),
                "times": array_literal(e.occurred_at for e in unique),
                "lead_ids": array_literal(leads.get(e.recipient) for e in unique),
            },
        )
        stored = cursor.fetchall()
    opens = [row for row in stored if row[1] == EmailEventType.OPEN and row[3] is not None]
    opened_before = set(
        EmailEvent.objects.filter(
            organization=org,
            message_id__in={row[2] for row in opens},
            event_type=EmailEventType.OPEN,
            activity__isnull=False,
        ).values_list("message_id", flat=True)
    )
    activities = 0
    for event_pk, _, message_id, lead_id, campaign, occurred_at in sorted(opens, key=lambda row: row[5]):
        if message_id in opened_before:
            continue
        opened_before.add(message_id)
        activity = activity_log(
            org=org,
            actor=None,
            lead_id=lead_id,
            kind=ActivityKind.EMAIL_OPENED,
            occurred_at=occurred_at,
            via=Via.API,
            subject=f"Opened {campaign}" if campaign else "Opened an e-mail",
        )
        EmailEvent.objects.filter(organization=org, pk=event_pk).update(activity=activity)
        activities += 1
    return RecordResult(received=len(events), stored=len(stored), activities=activities)
