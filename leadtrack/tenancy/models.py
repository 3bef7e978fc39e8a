from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.managers import TenantManager
from leadtrack.tenancy.roles import Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone: {value}")


class Organization(models.Model):
    """A tenant. Not tenant-owned itself: it is what the others are owned by."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantModel(models.Model):
    """Base of every tenant-owned model.

    - ``organization`` on every row; indexes should lead with it.
    - ``objects`` is scoped to the active organization and fails closed.
    - ``unscoped`` reaches across tenants: operator commands and beat fan-outs only.
    - PostgreSQL row-level security is installed on the table after migrate
      (leadtrack/tenancy/db.py), so a raw query sees the active tenant's rows only.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", editable=False)

    objects = TenantManager()
    unscoped = models.Manager()  # noqa: DJ012 - ruff reads the manager as a field

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.organization_id is None:
            self.organization = current_organization()
        super().save(*args, **kwargs)


class Membership(TenantModel):
    """A person's role in one organization. A person may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_per_org"),
        ]
        indexes = [models.Index(fields=["user", "organization"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.organization_id}"


class Invitation(TenantModel):
    """An e-mailed invitation to join an organization with a role; single use, expires."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index("organization", Lower("email"), name="invitation_org_email_idx")]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"
