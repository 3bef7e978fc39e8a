"""First-party visit tracking: the sites an organization tracks, its visitors and their page views.

Page views arrive on a fast path (``/t/<key>/e`` → a Redis stream, no ORM save per hit)
and are written here in batches by the drain (services.page_views_drain). A page view of a
visitor identified as a lead also becomes a ``page_visit`` activity on the lead's timeline;
``PageView.activity`` records which one, so that identifying twice creates no duplicates.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from leadtrack.tenancy.models import TenantModel

# The transaction-local setting through which a public request looks up the site key it presents.
SITE_LOOKUP_SETTING = "app.tracking_site_key"


class TrackingSite(TenantModel):
    """A website of the organization's that pastes the snippet.

    Like an API key, the public key is presented before any organization is known:
    migration 0002 adds a read-only policy that shows the one row whose key equals the
    transaction-local ``app.tracking_site_key`` (selectors.site_for_key).
    """

    key = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    # Host names whose pages may send events (a suffix match: "example.com" allows
    # "www.example.com"); empty allows any.
    allowed_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    honour_do_not_track = models.BooleanField(default=True)
    require_consent = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"], name="trackingsite_org_idx")]

    def __str__(self) -> str:
        return self.name


class Visitor(TenantModel):
    """A first-party visitor id (the ``lt_vid`` cookie), and the lead it turned out to be."""

    visitor_id = models.CharField(max_length=64)
    lead = models.ForeignKey("leads.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    identified_at = models.DateTimeField(null=True, blank=True)
    identified_via = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "visitor_id"], name="visitor_org_vid_unique"),
        ]
        indexes = [models.Index(fields=["organization", "lead"], name="visitor_org_lead_idx")]

    def __str__(self) -> str:
        return self.visitor_id


class PageView(TenantModel):
    """One page view, as drained from the stream. ``event_id`` (from the script or the API
    client) makes redelivery harmless: (organization, site, event_id) is unique."""

    site = models.ForeignKey(TrackingSite, on_delete=models.CASCADE, related_name="page_views")
    event_id = models.CharField(max_length=64)
    visitor_id = models.CharField(max_length=64)
    # A visit ends after 30 minutes without a page view (or when another campaign arrives).
    visit_id = models.UUIDField()
    occurred_at = models.DateTimeField()
    url = models.CharField(max_length=2000)
    path = models.CharField(max_length=500)
    referrer = models.CharField(max_length=2000, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    # Truncated before it was ever stored: IPv4 /24, IPv6 /48.
    ip_prefix = models.GenericIPAddressField(null=True, blank=True)
    is_landing = models.BooleanField(default=False)  # the first page view of its visit
    is_new_visitor = models.BooleanField(default=False)  # part of the visitor's first visit
    activity = models.ForeignKey(
        "leads.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "site", "event_id"], name="pageview_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "occurred_at"], name="pageview_org_time_idx"),
            models.Index(fields=["organization", "visitor_id", "occurred_at"], name="pageview_org_vid_idx"),
            models.Index(fields=["organization", "site", "occurred_at"], name="pageview_org_site_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} {self.path}"
