from __future__ import annotations

from django.db import models
from django.utils import timezone

from leads.models import Activity, Lead
from leadtrack.tenancy.models import TenantModel

# The transaction-local setting through which an inbound e-mail webhook finds its endpoint.
ENDPOINT_LOOKUP_SETTING = "app.email_endpoint_key"


class EmailEndpoint(TenantModel):
    """Where an organization's e-mail service posts engagement events: ``/hooks/email/<key>``.

    The key is in the URL and says which organization is posting; the secret signs each
    post (HMAC-SHA256 of ``<timestamp>.<raw body>``). The request knows no organization
    when it arrives, so the table has one more read-only row-level security policy
    (migration 0002): the row whose key equals ``app.email_endpoint_key`` is visible.
    The secret is kept readable because every post is verified with it.
    """

    key = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="email_endpoint_one_per_org")]

    def __str__(self) -> str:
        return f"e-mail endpoint of {self.organization_id}"


class EmailEventType(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    OPEN = "open", "Opened"
    CLICK = "click", "Clicked"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
    BOUNCE = "bounce", "Bounced"


class EmailEvent(TenantModel):
    """One engagement event from the e-mail service, stored once per event id (posts are retried)."""

    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=20, choices=EmailEventType.choices)
    message_id = models.CharField(max_length=200)
    recipient = models.CharField(max_length=254)
    # The campaign name as the e-mail service sent it; matched to leads.Campaign by name when read.
    campaign = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The email_opened activity logged for the first open of a message, if its lead is known.
    activity = models.ForeignKey(Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event_id"], name="email_event_id_unique"),
        ]
        indexes = [
            models.Index(fields=["organization", "message_id"], name="email_event_org_message_idx"),
            models.Index(fields=["organization", "occurred_at"], name="email_event_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id}"
