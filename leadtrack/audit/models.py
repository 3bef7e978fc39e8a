from __future__ import annotations

from django.db import models
from django.utils import timezone

from leadtrack.tenancy.models import Organization, TenantModel


class Action(models.TextChoices):
    LEAD_CREATE = "lead.create", "Lead created"
    LEAD_UPDATE = "lead.update", "Lead changed"
    LEAD_DELETE = "lead.delete", "Lead deleted"
    EXPORT = "export", "Export downloaded"
    LOGIN_SUCCESS = "login.success", "Signed in"
    LOGIN_FAILURE = "login.failure", "Sign-in failed"
    AUTHZ_DENIED = "authz.denied", "Access refused"


class AuditEvent(TenantModel):
    """One row per audited action; append-only (the app role may INSERT and SELECT only).

    ``organization`` is empty for pre-tenant events (sign-ins happen before any organization is
    chosen); row-level security lets the app role write such rows but never read them.
    ``details`` holds names only (changed field names, query parameter names, the permission),
    never values, so the trail carries no personal data and erasure has nothing to scrub here.
    Actors and objects are plain ids, not foreign keys: the trail outlives what it mentions.
    """

    # Overrides TenantModel's: nullable for pre-tenant events; PROTECT because the app role
    # cannot delete audit rows anyway, so an organization with history is not deleted by cascade.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", editable=False, null=True
    )
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40, choices=Action.choices)
    actor_user_id = models.BigIntegerField(null=True)
    actor_api_key_id = models.BigIntegerField(null=True)
    via = models.CharField(max_length=20, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.BigIntegerField(null=True)
    target = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)

    # Read by tenancy/db.py: the app role loses UPDATE and DELETE on this table.
    append_only = True

    class Meta:
        indexes = [models.Index(fields=["organization", "-at"], name="audit_org_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id or ''} at {self.at}"
