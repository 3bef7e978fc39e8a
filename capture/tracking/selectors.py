"""Reads of tracking: the site a public key names, the admin lists, and the web KPIs' SQL."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from capture.tracking.models import SITE_LOOKUP_SETTING, PageView, TrackingSite, Visitor
from leadtrack.tenancy.models import Organization
from reports.models import Grain


@dataclass(frozen=True)
class SiteInfo:
    """What the public endpoints need of a site, kept in each web process for a short while."""

    site_id: int
    organization_id: int
    key: str
    allowed_domains: tuple[str, ...]
    honour_do_not_track: bool
    require_consent: bool


# key → (monotonic expiry, SiteInfo or None). A changed or deactivated site takes effect
# in every web process within SITE_CACHE_SECONDS; the service clears this process's entry.
SITE_CACHE_SECONDS = 30.0
_site_cache: dict[str, tuple[float, SiteInfo | None]] = {}
_SITE_CACHE_MAX = 10_000


def site_cache_forget(key: str | None = None) -> None:
    if key is None:
        _site_cache.clear()
    else:
        _site_cache.pop(key, None)


def site_for_key(*, key: str) -> SiteInfo | None:
    """The active site with this public key, or None; no organization needs to be active.

    The read before any organization is known: inside its own short transaction,
    ``app.tracking_site_key`` makes exactly the row with that key visible (the
    tracking_site_lookup policy). Cached per process, hits and misses alike, so the
    event endpoint does not touch PostgreSQL on the fast path.
    """
    now = time.monotonic()
    cached = _site_cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [SITE_LOOKUP_SETTING, key])
        site = TrackingSite.unscoped.filter(key=key, is_active=True).first()
    info = (
        SiteInfo(
            site_id=site.pk,
            organization_id=site.organization_id,
            key=site.key,
            allowed_domains=tuple(site.allowed_domains),
            honour_do_not_track=site.honour_do_not_track,
            require_consent=site.require_consent,
        )
        if site is not None
        else None
    )
    if len(_site_cache) >= _SITE_CACHE_MAX:
        _site_cache.clear()
    _site_cache[key] = (now + SITE_CACHE_SECONDS, info)
    return info


def sites_for_org(*, org: Organization) -> QuerySet[TrackingSite]:
    return TrackingSite.objects.filter(organization=org).order_by("name", "id")


def site_get(*, org: Organization, site_id: int) -> TrackingSite:
    """Raises TrackingSite.DoesNotExist (→ 404) for another organization's site."""
    return TrackingSite.objects.get(organization=org, pk=site_id)


def site_page_views(*, org: Organization, site: TrackingSite, limit: int = 50) -> list[PageView]:
    return list(PageView.objects.filter(organization=org, site=site).order_by("-occurred_at", "-id")[:limit])


def site_page_view_count(*, org: Organization, site: TrackingSite) -> int:
    return PageView.objects.filter(organization=org, site=site).count()


def visitor_get(*, org: Organization, visitor_id: str) -> Visitor | None:
    return Visitor.objects.filter(organization=org, visitor_id=visitor_id).first()


def visitor_page_visit_count(*, org: Organization, visitor_id: str) -> int:
    """Page views of the visitor already on a lead's timeline."""
    return PageView.objects.filter(organization=org, visitor_id=visitor_id, activity__isnull=False).count()


# --- Web KPIs ----------------------------------------------------------------------------------
# The visit a page view belongs to, its landing page and its traffic source are fixed at drain
# time (services.page_views_drain); these statements only count. Periods are buckets of the
# organization's local calendar, like every other metric (reports/queries.py).

# The host of a URL, without "www.": referrer and page hosts are compared to tell an external
# referral from a move inside the same site.
_HOST = "regexp_replace(lower(substring({col} from '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)')), '^www\\.', '')"
REFERRER_HOST = _HOST.format(col="v.referrer")
PAGE_HOST = _HOST.format(col="v.url")
DIRECT = "(direct)"
# A visit's traffic source, from its landing page view: the campaign's utm_source when tagged,
# else the external referrer's domain, else direct (no referrer, or a referrer on the same site).
_EXTERNAL_REFERRER = f"v.referrer <> '' AND {REFERRER_HOST} IS NOT NULL AND {REFERRER_HOST} <> {PAGE_HOST}"
SOURCE_KIND = (
    f"CASE WHEN v.utm_source <> '' THEN 'campaign' WHEN {_EXTERNAL_REFERRER} THEN 'referral' "
    "ELSE 'direct' END"
)
SOURCE_NAME = (
    f"CASE WHEN v.utm_source <> '' THEN v.utm_source WHEN {_EXTERNAL_REFERRER} THEN {REFERRER_HOST} "
    f"ELSE '{DIRECT}' END"
)
# A visit converts when a web-form submission of the lead its visitor was identified as
# happened from its first page view until 30 minutes after its last one.
CONVERSION_WINDOW = "interval '30 minutes'"


WEB_MEASURES = (
    "visits",
    "page_views",
    "unique_page_views",
    "unique_visitors",
    "new_visitors",
    "converted_visits",
    "all_visits",
)


def _bucket(grain: str | None) -> str:
    if grain is None:
        return "%(start_date)s::date"
    return f"date_trunc('{Grain(grain).value}', v.occurred_at AT TIME ZONE %(tz)s)::date"


def _params(
    *, org: Organization, start: datetime, end: datetime, start_date: date, site_id: int | None
) -> dict:
    return {
        "org": org.pk,
        "tz": org.time_zone,
        "start": start,
        "end": end,
        "start_date": start_date,
        "site": site_id,
    }


_RANGE = (
    "v.organization_id = %(org)s AND v.occurred_at >= %(start)s AND v.occurred_at < %(end)s "
    "AND (%(site)s::bigint IS NULL OR v.site_id = %(site)s::bigint)"
)

_CONVERTED = f"""EXISTS (
    SELECT 1 FROM tracking_visitor vis
    JOIN leads_activity a ON a.organization_id = vis.organization_id AND a.lead_id = vis.lead_id
    WHERE vis.organization_id = %(org)s AND vis.visitor_id = v.visitor_id
      AND a.kind = 'web_form' AND a.occurred_at >= v.occurred_at
      AND a.occurred_at <= (
          SELECT max(later.occurred_at) FROM tracking_pageview later
          WHERE later.organization_id = %(org)s AND later.visit_id = v.visit_id
      ) + {CONVERSION_WINDOW}
)"""


def _fetch(statement: str, params: dict) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def web_measures(
    *,
    org: Organization,
    start: datetime,
    end: datetime,
    start_date: date,
    grain: str | None,
    site_id: int | None = None,
) -> list[dict[str, Any]]:
    """The web family's measures per local period (one statement): visits, page_views,
    unique_page_views, unique_visitors, new_visitors, converted_visits, all_visits.

    A visit counts in the period of its landing (first) page view; a page view in the period
    of its own time; unique page views are distinct (visit, path) pairs; new visitors are the
    visitors whose first visit landed in the period.
    """
    bucket = _bucket(grain)
    statement = f"""
        SELECT {bucket} AS period_start,
            count(*) FILTER (WHERE v.is_landing) AS visits,
            count(*) AS page_views,
            count(DISTINCT (v.visit_id, v.path)) AS unique_page_views,
            count(DISTINCT v.visitor_id) AS unique_visitors,
            count(DISTINCT v.visitor_id) FILTER (WHERE v.is_landing AND v.is_new_visitor) AS new_visitors,
            count(*) FILTER (WHERE v.is_landing AND {_CONVERTED}) AS converted_visits
        FROM tracking_pageview v
        WHERE {_RANGE}
        GROUP BY 1 ORDER BY 1
    """
    rows = _fetch(statement, _params(org=org, start=start, end=end, start_date=start_date, site_id=site_id))
    for row in rows:
        row["all_visits"] = row["visits"]
    return rows


def traffic_sources(
    *, org: Organization, start: datetime, end: datetime, start_date: date, site_id: int | None = None
) -> list[dict[str, Any]]:
    """Visits landing in the range per traffic source (kind, name), most visits first, each with
    ``all_visits`` (every visit of the range) for its share."""
    statement = f"""
        SELECT {SOURCE_KIND} AS source_kind, {SOURCE_NAME} AS source_name, count(*) AS visits,
            sum(count(*)) OVER () AS all_visits
        FROM tracking_pageview v
        WHERE {_RANGE} AND v.is_landing
        GROUP BY 1, 2 ORDER BY 3 DESC, 2
    """
    return _fetch(statement, _params(org=org, start=start, end=end, start_date=start_date, site_id=site_id))


def landing_pages(
    *,
    org: Organization,
    start: datetime,
    end: datetime,
    start_date: date,
    site_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Visits landing in the range per landing path, with how many converted."""
    statement = f"""
        SELECT v.path AS path, count(*) AS visits, count(*) FILTER (WHERE {_CONVERTED}) AS converted_visits
        FROM tracking_pageview v
        WHERE {_RANGE} AND v.is_landing
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(limit)}
    """
    return _fetch(statement, _params(org=org, start=start, end=end, start_date=start_date, site_id=site_id))
