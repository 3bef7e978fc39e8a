"""Writes of tracking: sites, the fast path of events, the drain into PostgreSQL, identification.

The fast path (``events_accept``) validates an event, truncates the client's IP and appends
to a Redis stream; it never touches PostgreSQL (the site comes from selectors' per-process
cache). ``page_views_drain`` moves batches of the stream into ``tracking_pageview`` with one
multi-row INSERT per organization, assigning visits on the way; page views of visitors known
as leads become ``page_visit`` activities (``page_views_to_timeline``), in bulk and once.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from capture.tracking import stream
from capture.tracking.models import PageView, TrackingSite, Visitor
from capture.tracking.selectors import SiteInfo, site_cache_forget
from leads import signals as lead_signals
from leads.models import Activity, ActivityKind, Lead, Via
from leadtrack.accounts.models import User
from leadtrack.pgarrays import array_literal
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024
MAX_EVENTS_PER_REQUEST = 20
MAX_EVENTS_PER_API_CALL = 100
VISIT_TIMEOUT = timedelta(minutes=30)
# Server-side (API) events may be back-dated this far; browser events are timed on arrival.
MAX_EVENT_AGE = timedelta(days=7)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SITE_KEY_PATTERN = re.compile(r"^ts_[A-Za-z0-9_-]{8,40}$")
DRAIN_BATCH = 1000
# One drain at a time (beat, a manual run, tests): concurrent drains could split a visit.
DRAIN_LOCK_ID = 0x7472_6B64  # "trkd"


# --- Sites -----------------------------------------------------------------------------------
def _clean_domains(domains: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not domain:
            continue
        if not re.fullmatch(r"[a-z0-9.-]{1,253}(:\d{1,5})?", domain) or domain.startswith("."):
            raise ValidationError({"allowed_domains": f"“{raw.strip()}” is not a host name (example.com)."})
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


@transaction.atomic
def site_create(
    *,
    org: Organization,
    actor: User | None,
    name: str,
    allowed_domains: Iterable[str] = (),
    honour_do_not_track: bool = True,
    require_consent: bool = False,
) -> TrackingSite:
    """A new tracking site with a fresh public key (it is in every page's HTML: not a secret)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the site a name."})
    return TrackingSite.objects.create(
        organization=org,
        key=f"ts_{secrets.token_urlsafe(18)}",
        name=name[:100],
        allowed_domains=_clean_domains(allowed_domains),
        honour_do_not_track=honour_do_not_track,
        require_consent=require_consent,
        created_by=actor,
    )


@transaction.atomic
def site_update(
    *,
    org: Organization,
    site_id: int,
    name: str,
    allowed_domains: Iterable[str],
    honour_do_not_track: bool,
    require_consent: bool,
    is_active: bool,
) -> TrackingSite:
    """Raises TrackingSite.DoesNotExist (→ 404) for another organization's site. Other web
    processes see the change within selectors.SITE_CACHE_SECONDS."""
    site = TrackingSite.objects.select_for_update().get(organization=org, pk=site_id)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the site a name."})
    site.name = name[:100]
    site.allowed_domains = _clean_domains(allowed_domains)
    site.honour_do_not_track = honour_do_not_track
    site.require_consent = require_consent
    site.is_active = is_active
    site.save()
    transaction.on_commit(lambda: site_cache_forget(site.key))
    return site


# --- The fast path ---------------------------------------------------------------------------
def truncate_ip(address: str | None) -> str | None:
    """The network of the address, never the address: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    allowed = list(allowed)
    if not allowed:
        return True
    return any(host == domain or host.endswith(f".{domain}") for domain in allowed)


def _text(raw: Mapping[str, Any], field: str, limit: int, errors: dict[str, list[str]]) -> str:
    value = raw.get(field, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = ["Must be a string."]
        return ""
    if len(value) > limit:
        errors[field] = [f"At most {limit} characters."]
        return ""
    return value.strip()


def _http_url(value: str, field: str, errors: dict[str, list[str]], *, required: bool) -> str:
    if not value:
        if required:
            errors[field] = ["This field is required."]
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors[field] = ["Must be an http(s) URL."]
        return ""
    return parts._replace(fragment="").geturl()


def event_validate(
    raw: Any,
    *,
    site: SiteInfo,
    ip: str | None,
    received_at: datetime,
    server_side: bool = False,
) -> dict[str, Any]:
    """One event as the stream stores it, or ValidationError with field errors.

    ``url`` (http(s), a host the site allows), ``event_id`` and ``visitor_id`` (8-64 of
    [A-Za-z0-9_-]) are required; ``referrer`` and the ``utm_*`` are optional. UTM values
    missing from the event are read from the URL's query. The IP is truncated here, before
    anything stores it. Browser events are timed on arrival and the IP is the request's;
    server-side events may carry ``occurred_at`` (ISO 8601, not in the future, at most
    MAX_EVENT_AGE old) and the visitor's ``ip``.
    """
    if not isinstance(raw, dict):
        raise ValidationError({"event": "Each event is a JSON object."})
    errors: dict[str, list[str]] = {}
    event_id = _text(raw, "event_id", 64, errors)
    visitor_id = _text(raw, "visitor_id", 64, errors)
    for field, value in (("event_id", event_id), ("visitor_id", visitor_id)):
        if field not in errors and not ID_PATTERN.fullmatch(value):
            errors[field] = ["8 to 64 letters, digits, '-' or '_'."]
    url = _http_url(_text(raw, "url", 2000, errors), "url", errors, required=True)
    referrer = _http_url(_text(raw, "referrer", 2000, errors), "referrer", errors, required=False)
    utm = {field: _text(raw, field, 200, errors) for field in UTM_FIELDS}
    occurred_at = received_at
    if server_side:
        ip = _text(raw, "ip", 45, errors) or None
        if ip and truncate_ip(ip) is None:
            errors["ip"] = ["An IPv4 or IPv6 address."]
    if server_side and raw.get("occurred_at") not in (None, ""):
        try:
            occurred_at = datetime.fromisoformat(str(raw["occurred_at"]))
        except ValueError:
            errors["occurred_at"] = ["An ISO 8601 date-time (2025-01-31T12:00:00Z)."]
        else:
            if timezone.is_naive(occurred_at):
                errors["occurred_at"] = ["Give the time zone (Z or +hh:mm)."]
            elif occurred_at > received_at + timedelta(minutes=5):
                errors["occurred_at"] = ["Cannot be in the future."]
            elif occurred_at < received_at - MAX_EVENT_AGE:
                errors["occurred_at"] = [f"At most {MAX_EVENT_AGE.days} days old."]
    if url and "url" not in errors:
        parts = urlsplit(url)
        if not _host_allowed((parts.hostname or "").lower(), site.allowed_domains):
            errors["url"] = [f"This site does not accept events from {parts.hostname}."]
        query = parse_qs(parts.query)
        for field in UTM_FIELDS:
            if not utm[field] and query.get(field):
                utm[field] = query[field][0].strip()[:200]
    if errors:
        raise ValidationError(errors)
    return {
        "org": site.organization_id,
        "site": site.site_id,
        "event_id": event_id,
        "visitor_id": visitor_id,
        "url": url,
        "path": (urlsplit(url).path or "/")[:500],
        "referrer": referrer,
        **utm,
        "ip": truncate_ip(ip),
        "at": occurred_at.timestamp(),
        "received": received_at.timestamp(),
    }


def events_parse(body: bytes) -> tuple[list[Any], bool]:
    """The events of a request body and whether it was a batch: one JSON object, or
    ``{"events": [...]}``; else ValidationError."""
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError({"body": f"At most {MAX_BODY_BYTES} bytes."})
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError({"body": "Send one JSON object (text/plain or application/json)."}) from exc
    if isinstance(data, dict) and "events" in data:
        data = data["events"]
        if not isinstance(data, list) or not data:
            raise ValidationError({"events": "A non-empty list of events."})
        if len(data) > MAX_EVENTS_PER_REQUEST:
            raise ValidationError({"events": f"At most {MAX_EVENTS_PER_REQUEST} events per request."})
        return data, True
    return [data], False


def events_accept(
    *,
    site: SiteInfo,
    events: list[Any],
    ip: str | None,
    batch: bool = False,
    do_not_track: bool = False,
    server_side: bool = False,
    now: datetime | None = None,
) -> int:
    """Validate every event, then append them all to the stream (all or none); the count kept.
    Errors of a batch (``{"events": [...]}``) are named ``events.<index>.<field>``.

    A browser that sends ``DNT: 1`` to a site honouring Do-Not-Track is answered as if
    recorded, and nothing is kept (the script does not send then; this covers old copies).
    """
    if do_not_track and site.honour_do_not_track:
        return 0
    received_at = now or timezone.now()
    entries = []
    for index, raw in enumerate(events):
        try:
            entries.append(
                event_validate(raw, site=site, ip=ip, received_at=received_at, server_side=server_side)
            )
        except ValidationError as exc:
            if not batch:
                raise
            raise ValidationError(
                {f"events.{index}.{field}": messages for field, messages in exc.message_dict.items()}
            ) from exc
    stream.append(entries)
    return len(entries)


# --- The drain -------------------------------------------------------------------------------
_INSERT = """
INSERT INTO tracking_pageview (
    organization_id, site_id, event_id, visitor_id, visit_id, occurred_at, url, path, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, ip_prefix, is_landing,
    is_new_visitor, received_at
)
SELECT %s, * FROM unnest(
    %s::bigint[], %s::varchar[], %s::varchar[], %s::uuid[], %s::timestamptz[], %s::varchar[],
    %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
    %s::varchar[], %s::inet[], %s::boolean[], %s::boolean[], %s::timestamptz[]
)
ON CONFLICT (organization_id, site_id, event_id) DO NOTHING
RETURNING visitor_id
"""


def _assign_visits(*, org: Organization, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each event its visit: a visitor's page view starts a new visit when the previous one
    is more than VISIT_TIMEOUT earlier or another campaign (utm_source/utm_campaign) arrives.
    The previous page view is the stored one for the batch's first event of each visitor."""
    visitor_ids = sorted({event["visitor_id"] for event in events})
    previous: dict[str, dict[str, Any]] = {
        row["visitor_id"]: row
        for row in PageView.objects.filter(organization=org, visitor_id__in=visitor_ids)
        .order_by("visitor_id", "-occurred_at", "-id")
        .distinct("visitor_id")
        .values("visitor_id", "visit_id", "occurred_at", "utm_source", "utm_campaign", "is_new_visitor")
    }
    events = sorted(events, key=lambda e: (e["visitor_id"], e["at"], e["event_id"]))
    for event in events:
        occurred_at = datetime.fromtimestamp(event["at"], tz=UTC)
        last = previous.get(event["visitor_id"])
        campaign = (event["utm_source"], event["utm_campaign"])
        new_campaign = (
            any(campaign) and last is not None and campaign != (last["utm_source"], last["utm_campaign"])
        )
        if last is None or occurred_at - last["occurred_at"] > VISIT_TIMEOUT or new_campaign:
            event["visit_id"] = uuid.uuid4()
            event["is_landing"] = True
            event["is_new_visitor"] = last is None
        else:
            event["visit_id"] = last["visit_id"]
            event["is_landing"] = False
            event["is_new_visitor"] = last["is_new_visitor"]
        event["occurred_at"] = occurred_at
        previous[event["visitor_id"]] = {
            "visit_id": event["visit_id"],
            "occurred_at": occurred_at,
            "utm_source": event["utm_source"],
            "utm_campaign": event["utm_campaign"],
            "is_new_visitor": event["is_new_visitor"],
        }
    return events


def _insert_page_views(*, org: Organization, events: list[dict[str, Any]]) -> list[str]:
    """One multi-row INSERT; already stored event ids are skipped. The visitor of each row written."""
    columns = [
        [e["site"] for e in events],
        [e["event_id"] for e in events],
        [e["visitor_id"] for e in events],
        [str(e["visit_id"]) for e in events],
        [e["occurred_at"] for e in events],
        [e["url"] for e in events],
        [e["path"] for e in events],
        [e["referrer"] for e in events],
        *([e[field] for e in events] for field in UTM_FIELDS),
        [e["ip"] for e in events],
        [e["is_landing"] for e in events],
        [e["is_new_visitor"] for e in events],
        [datetime.fromtimestamp(e["received"], tz=UTC) for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [org.pk, *map(array_literal, columns)])
        return [row[0] for row in cursor.fetchall()]


def page_views_drain(*, batch_size: int = DRAIN_BATCH, consumer: str | None = None) -> int:
    """Move up to ``batch_size`` events from the stream into PostgreSQL; the page views written
    (events already stored are not counted again).

    One transaction for the batch: each organization's events in one INSERT under its tenant
    context, and the new page views of identified visitors onto their leads' timelines. The
    stream entries are acknowledged and deleted only after the commit; a drain killed before
    that leaves them pending for the next one, and the unique event id skips those already
    written. Entries that cannot be parsed or name a deleted site are dropped.
    """
    consumer = consumer or f"drain-{os.getpid()}"
    written = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [DRAIN_LOCK_ID])
            if not cursor.fetchone()[0]:
                return 0
        batch = stream.read_batch(consumer=consumer, count=batch_size)
        by_org: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for _entry_id, event in batch:
            if isinstance(event, dict) and isinstance(event.get("org"), int):
                by_org[event["org"]].append(event)
        organizations = Organization.objects.in_bulk(list(by_org))
        for organization_id, events in by_org.items():
            org = organizations.get(organization_id)
            if org is None:
                continue
            with tenant_context(org):
                live_sites = set(
                    TrackingSite.objects.filter(
                        organization=org, pk__in={event["site"] for event in events}
                    ).values_list("pk", flat=True)
                )
                events = [event for event in events if event["site"] in live_sites]
                if not events:
                    continue
                visitors = _insert_page_views(org=org, events=_assign_visits(org=org, events=events))
                written += len(visitors)
                page_views_to_timeline(org=org, visitor_ids=set(visitors))
        entry_ids = [entry_id for entry_id, _event in batch]
        transaction.on_commit(lambda: stream.acknowledge(entry_ids))
    return written


# --- Identification --------------------------------------------------------------------------
_LINK_ACTIVITIES = """
UPDATE tracking_pageview pv SET activity_id = link.activity_id
FROM unnest(%s::bigint[], %s::bigint[]) AS link(page_view_id, activity_id)
WHERE pv.organization_id = %s AND pv.id = link.page_view_id
"""


def page_views_to_timeline(*, org: Organization, visitor_ids: Iterable[str]) -> int:
    """The page views of these visitors that are not on a timeline yet, as ``page_visit``
    activities of the leads the visitors were identified as; the number added.

    Bulk (one INSERT of activities, one UPDATE of page views) and once: the page views are
    locked, and those already linked to an activity are skipped, so identifying twice, or a
    drain racing an identification, adds nothing twice. Runs inside the organization.
    """
    visitor_ids = list(visitor_ids)
    if not visitor_ids:
        return 0
    leads = dict(
        Visitor.objects.filter(
            organization=org,
            visitor_id__in=visitor_ids,
            lead__isnull=False,
            lead__deleted_at__isnull=True,
        ).values_list("visitor_id", "lead_id")
    )
    if not leads:
        return 0
    page_views = list(
        PageView.objects.select_for_update()
        .filter(organization=org, visitor_id__in=list(leads), activity__isnull=True)
        .order_by("occurred_at", "id")
    )
    if not page_views:
        return 0
    activities = Activity.objects.bulk_create(
        [
            Activity(
                organization=org,
                lead_id=leads[view.visitor_id],
                kind=ActivityKind.PAGE_VISIT,
                occurred_at=view.occurred_at,
                via=Via.SYSTEM,
                subject=view.path[:300],
                url=view.url,
                referrer_url=view.referrer,
                utm_source=view.utm_source,
                utm_medium=view.utm_medium,
                utm_campaign=view.utm_campaign,
                utm_term=view.utm_term,
                utm_content=view.utm_content,
            )
            for view in page_views
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _LINK_ACTIVITIES,
            [array_literal(view.pk for view in page_views), array_literal(a.pk for a in activities), org.pk],
        )
    announced = [(a.pk, a.lead_id) for a in activities]

    def announce() -> None:
        for activity_id, lead_id in announced:
            lead_signals.activity_logged.send(
                sender=Activity,
                organization_id=org.pk,
                lead_id=lead_id,
                activity_id=activity_id,
                kind=ActivityKind.PAGE_VISIT,
            )

    transaction.on_commit(announce)
    return len(activities)


@transaction.atomic
def visitor_identify(
    *, org: Organization, visitor_id: str, lead_id: int, via: str, now: datetime | None = None
) -> int:
    """Link a visitor to a lead and put the visitor's page views on the lead's timeline; the
    number of page visits added (0 the second time). Later page views of the visitor are added
    when drained. A visitor identified as another lead from now on belongs to that lead; page
    visits already on the first lead's timeline stay there.

    Raises ValidationError: a malformed visitor id, an unknown or deleted lead.
    """
    if not isinstance(visitor_id, str) or not ID_PATTERN.fullmatch(visitor_id):
        raise ValidationError({"visitor_id": "8 to 64 letters, digits, '-' or '_'."})
    if not Lead.objects.filter(organization=org, pk=lead_id, deleted_at__isnull=True).exists():
        raise ValidationError({"lead_id": "No such lead."})
    now = now or timezone.now()
    visitor, created = Visitor.objects.select_for_update().get_or_create(
        organization=org,
        visitor_id=visitor_id,
        defaults={"lead_id": lead_id, "identified_at": now, "identified_via": via[:20]},
    )
    if not created and visitor.lead_id != lead_id:
        visitor.lead_id = lead_id
        visitor.identified_at = now
        visitor.identified_via = via[:20]
        visitor.save(update_fields=["lead", "identified_at", "identified_via"])
    return page_views_to_timeline(org=org, visitor_ids=[visitor_id])


def visitor_identified_receiver(
    sender, *, organization_id: int, lead_id: int, visitor_id: str, via: str = "", **kwargs
) -> None:
    """capture.signals.visitor_identified → visitor_identify, inside the organization.

    A submission from a page without the script carries no visitor id: nothing to link.
    A malformed id (the hidden input is the visitor's to edit) is logged, never raised into
    the sender's submission.
    """
    if not visitor_id:
        return
    organization = Organization.objects.get(pk=organization_id)
    try:
        with tenant_context(organization):
            visitor_identify(org=organization, visitor_id=visitor_id, lead_id=lead_id, via=via or "signal")
    except ValidationError as exc:
        logger.warning(
            "visitor_identified ignored org=%s lead=%s: %s", organization_id, lead_id, exc.messages
        )
