"""A tracking site and a week of visits for the demo organization ``robotix`` (idempotent).

The visits go through the same path as the API's server-side events (validated, IP
truncated, appended to the stream) and are drained at once; event ids are fixed, so a second
seed adds nothing. One visitor is identified as the demo's first lead, whose timeline then
shows its page visits.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from capture.tracking import services, stream
from capture.tracking.models import TrackingSite
from capture.tracking.selectors import SiteInfo
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

DEMO_ORGANIZATION = "robotix"
DEMO_HOST = "https://www.robotix.example"
PAGES = ("/", "/pricing", "/product", "/blog/warehouse-robots", "/contact")
# (utm_source, utm_medium, utm_campaign, referrer) of a visit's landing page.
SOURCES = (
    ("partner", "referral", "cert", ""),
    ("newsletter", "email", "spring", ""),
    ("", "", "", "https://www.google.com/"),
    ("", "", "", "https://www.linkedin.com/"),
    ("", "", "", ""),
)


def seed_demo_tracking(*, visitors: int = 40) -> int:
    """The demo site and its visits; the number of page views written by this call."""
    organization = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if organization is None:
        return 0
    with tenant_context(organization):
        site = TrackingSite.objects.filter(organization=organization, name="robotix.example").first()
        if site is None:
            site = services.site_create(
                org=organization, actor=None, name="robotix.example", allowed_domains=["robotix.example"]
            )
        info = SiteInfo(site.pk, organization.pk, site.key, tuple(site.allowed_domains), True, False)
        now = timezone.now()
        rng = random.Random(7)  # noqa: S311 - demo data, repeatable on purpose
        events = []
        for number in range(visitors):
            visitor_id = f"demo-visitor-{number:03d}"
            start = now - timedelta(days=rng.uniform(0.1, 6.5))
            source, medium, campaign, referrer = rng.choice(SOURCES)
            for step, path in enumerate(rng.sample(PAGES, rng.randint(1, 4))):
                events.append(
                    {
                        "event_id": f"demo-{number:03d}-{step}",
                        "visitor_id": visitor_id,
                        "url": f"{DEMO_HOST}{path}",
                        "referrer": referrer if step == 0 else f"{DEMO_HOST}/",
                        "utm_source": source,
                        "utm_medium": medium,
                        "utm_campaign": campaign,
                        "occurred_at": (start + timedelta(minutes=3 * step)).isoformat(),
                        "ip": f"198.51.100.{number % 250}",
                    }
                )
        for first in range(0, len(events), services.MAX_EVENTS_PER_API_CALL):
            chunk = events[first : first + services.MAX_EVENTS_PER_API_CALL]
            services.events_accept(site=info, events=chunk, ip=None, batch=True, server_side=True, now=now)
    written = 0
    for _ in range(100):  # bounded: a drain running elsewhere may hold the lock
        if not stream.length():
            break
        written += services.page_views_drain()
    with tenant_context(organization):
        lead = Lead.objects.filter(organization=organization, deleted_at__isnull=True).order_by("id").first()
        if lead is not None:
            services.visitor_identify(
                org=organization, visitor_id="demo-visitor-000", lead_id=lead.pk, via="demo"
            )
    return written
