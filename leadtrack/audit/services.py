"""Writes to the audit trail: one INSERT per event, in the caller's transaction.

A write and its event commit or roll back together. Events carry ids and names, never values
(see AuditEvent). Every event is also logged as one JSON line (leadtrack/audit/logs.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from leadtrack.audit import context
from leadtrack.audit.models import Action, AuditEvent
from leadtrack.pgarrays import array_literal
from leadtrack.tenancy.models import Organization

logger = logging.getLogger("leadtrack.audit")

_COLUMNS = (
    "organization_id",
    "at",
    "action",
    "actor_user_id",
    "actor_api_key_id",
    "via",
    "object_type",
    "object_id",
    "target",
    "request_id",
    "details",
)
# No RETURNING: a pre-tenant row (organization NULL) passes the policy's WITH CHECK but not its
# USING, and RETURNING would need both.
_INSERT = (
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) "
    f"SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::bigint[], %s::bigint[], "
    f"%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::jsonb[])"
)


@dataclass(frozen=True)
class Event:
    action: str
    object_type: str = ""
    object_id: int | None = None
    target: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    # Shown in the log line only (never stored): a human handle such as a lead's company.
    label: str = ""
    level: int = logging.INFO


def audit_record_many(
    *,
    org: Organization | None,
    events: Sequence[Event],
    actor_user_id: int | None = None,
    via: str = "",
) -> None:
    """Append ``events`` in one statement. ``org`` None: pre-tenant events (sign-in).

    The API key and the request id come from the request context (leadtrack/audit/context.py),
    so callers need not pass them through every layer.
    """
    if not events:
        return
    ctx = context.current()
    api_key_id = ctx.api_key_id if ctx else None
    request_id = ctx.request_id if ctx else ""
    now = timezone.now()
    rows = [
        (
            org.pk if org else None,
            now,
            event.action,
            actor_user_id,
            api_key_id,
            via,
            event.object_type,
            event.object_id,
            event.target,
            request_id,
            json.dumps(dict(event.details), sort_keys=True),
        )
        for event in events
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [array_literal(column) for column in zip(*rows, strict=True)])
    for event in events:
        logger.log(
            event.level,
            "audit %s %s#%s%s",
            event.action,
            event.object_type,
            event.object_id if event.object_id is not None else event.target,
            f' "{event.label}"' if event.label else "",
            extra={"audit_action": event.action},
        )


def audit_record(
    *,
    org: Organization | None,
    action: str,
    actor_user_id: int | None = None,
    via: str = "",
    object_type: str = "",
    object_id: int | None = None,
    target: str = "",
    details: Mapping[str, Any] | None = None,
    label: str = "",
    level: int = logging.INFO,
) -> None:
    """Append one event; see ``audit_record_many``."""
    event = Event(action, object_type, object_id, target, details or {}, label, level)
    audit_record_many(org=org, events=[event], actor_user_id=actor_user_id, via=via)


def lead_event(*, action: Action, lead: Any, fields: Iterable[str]) -> Event:
    """The event of a lead write: the names of the fields written, the company as log label."""
    return Event(action, "lead", lead.pk, details={"fields": sorted(set(fields))}, label=lead.company)
