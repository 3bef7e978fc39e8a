from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from leadtrack.tenancy.models import TenantModel


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"
    IMPORT = "import", "Import history (migration from another CRM)"


# The transaction-local setting through which a request looks up the key it presents.
KEY_LOOKUP_SETTING = "app.api_key_prefix"


class ApiKey(TenantModel):
    """A credential of one organization for integrations.

    Tenant-owned like everything else (scoped manager, forced row-level security).
    A request presents its key before any organization is known, so the table has
    one more, read-only policy (migration 0002): a row is visible when its prefix
    equals the transaction-local ``app.api_key_prefix``. The lookup sets that to the
    prefix it was given and reads the one matching row; nobody can list keys
    without an organization. The secret itself is never stored, only its SHA-256
    (the key has 256 random bits, so a slow hash adds nothing).
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=10, choices=Scope.choices))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="apikey_org_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(TenantModel):
    """The stored outcome of one POST sent with an ``Idempotency-Key``.

    The unique (organization, key) row is inserted before the request runs; a
    concurrent duplicate waits on that insert, then finds the stored response.
    """

    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="idempotency_org_created_idx")]

    def __str__(self) -> str:
        return self.key


class WebhookEvent(models.TextChoices):
    LEAD_CREATED = "lead.created", "Lead created"
    LEAD_UPDATED = "lead.updated", "Lead updated"
    LEAD_STAGE_CHANGED = "lead.stage_changed", "Lead stage changed"
    REFERRAL_CREATED = "referral.created", "Referral created"
    REFERRAL_STATUS_CHANGED = "referral.status_changed", "Referral status changed"


class WebhookEndpoint(TenantModel):
    """A URL of the organization's that receives signed event deliveries."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=WebhookEvent.choices))
    # The HMAC key: kept readable because every delivery is signed with it.
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    # Set by the first failed delivery after a success; a day of failures disables it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "is_active"], name="webhookendpoint_org_idx")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantModel):
    """One event for one endpoint, with its attempts' outcome. ``event_id`` is the delivery id
    receivers de-duplicate on: the same across retries and replays."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event_id"], name="webhookdelivery_event_unique"),
        ]
        indexes = [
            models.Index(
                models.F("organization"),
                models.F("endpoint"),
                models.F("created_at").desc(),
                name="webhookdelivery_org_ep_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
