"""Personal data held by visit tracking: the visitor ids (the lt_vid cookie) identified as one
of the subject's leads, and those visitors' page views (pages, referrers, truncated IPs).
Registered with the privacy registry (leadtrack/privacy/registry.py).

Erasure pseudonymises rather than deletes: the web KPIs count page views, visits and distinct
visitor ids, and landing-page conversion follows the visitor's link to its (anonymised) lead, so
the rows stay and the cookie id is replaced, in the visitor and in every one of its page views,
by the same keyed hash. The browser can no longer be recognised, and no count changes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings

from capture.tracking.models import PageView, Visitor
from leadtrack.privacy.registry import Subject, register, scrub_text, scrub_url

# ":" is not allowed in a visitor id (services.ID_PATTERN): a pseudonym never collides with one.
PSEUDONYM_PREFIX = "erased:"


def pseudonym(*, org_id: int, visitor_id: str) -> str:
    """A stable stand-in for a visitor id: the same visitor always maps to the same value (counts
    stay), and the cookie value cannot be read back or recomputed without SECRET_KEY."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{org_id}:{visitor_id}".encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:32]


def _visitors(subject: Subject):
    return Visitor.objects.filter(organization=subject.organization, lead_id__in=subject.lead_ids)


def _page_views(subject: Subject, visitor_ids: list[str]):
    return PageView.objects.filter(organization=subject.organization, visitor_id__in=visitor_ids)


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    visitors = list(
        _visitors(subject).order_by("pk").values("visitor_id", "lead_id", "identified_at", "identified_via")
    )
    page_views = [
        {**row, "site": row.pop("site__name")}
        for row in _page_views(subject, [v["visitor_id"] for v in visitors])
        .order_by("occurred_at", "pk")
        .values(
            "site__name",
            "visitor_id",
            "visit_id",
            "occurred_at",
            "url",
            "path",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "ip_prefix",
        )
    ]
    return {"visitors": visitors, "page_views": page_views}


def _erase(subject: Subject) -> dict[str, int]:
    org = subject.organization
    visitors = list(_visitors(subject).order_by("pk"))
    changed = []
    # Found by the visitor's current id: the original one, or its pseudonym on a second run.
    for row in _page_views(subject, [v.visitor_id for v in visitors]).order_by("pk"):
        values = {
            "visitor_id": row.visitor_id
            if row.visitor_id.startswith(PSEUDONYM_PREFIX)
            else pseudonym(org_id=org.pk, visitor_id=row.visitor_id),
            "url": scrub_url(row.url, subject),
            "path": scrub_text(row.path, subject.identifiers),
            "referrer": scrub_url(row.referrer, subject),
            "ip_prefix": None,
        }
        if any(getattr(row, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            changed.append(row)
    PageView.objects.bulk_update(
        changed, ["visitor_id", "url", "path", "referrer", "ip_prefix"], batch_size=500
    )
    changed_visitors = 0
    for visitor in visitors:
        if not visitor.visitor_id.startswith(PSEUDONYM_PREFIX):
            Visitor.objects.filter(organization=org, pk=visitor.pk).update(
                visitor_id=pseudonym(org_id=org.pk, visitor_id=visitor.visitor_id)
            )
            changed_visitors += 1
    return {"visitors": changed_visitors, "page_views": len(changed)}


register(
    "tracking",
    export=_export,
    erase=_erase,
    order=60,
    description=(
        "Visit tracking: visitor ids identified as the person's leads and their page views (pages, "
        "referrers, campaign tags, truncated IP addresses); erased by replacing the visitor id with a "
        "keyed hash and clearing IPs and identifiers in URLs."
    ),
)
