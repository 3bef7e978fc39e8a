"""Privacy settings and the erasure log. Nothing here holds personal data: the log keeps a keyed
hash of the e-mail address, who asked, when, and how many rows each holder changed."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from leadtrack.tenancy.models import TenantModel


class PrivacySettings(TenantModel):
    """Per-organization privacy rules. Retention is off (empty) until an admin sets it."""

    retention_months = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Anonymise leads closed, or untouched, longer than this many months. Empty: never.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "privacy settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="privacy_settings_one_per_org")]

    def __str__(self) -> str:
        return f"Privacy settings of {self.organization_id}"


class ErasureReason(models.TextChoices):
    REQUEST = "request", "Data subject's request (Art. 17)"
    RETENTION = "retention", "Retention period ended"


class ErasureLog(TenantModel):
    """One erasure: proof that it happened, without the data it removed."""

    # HMAC-SHA256 of the lower-case address keyed by SECRET_KEY: a repeated request can be
    # recognised, the address cannot be read back (a plain hash could be by guessing).
    email_hash = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=10, choices=ErasureReason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    lead_count = models.PositiveIntegerField(default=0)
    # {"<holder>.<record type>": rows changed}
    counts = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["organization", "erased_at"], name="erasurelog_org_idx")]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.reason}) at {self.erased_at:%Y-%m-%d %H:%M}"


class ErasedLead(TenantModel):
    """Marks a lead as anonymised, so retention and repeated requests skip it."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    erasure = models.ForeignKey(ErasureLog, on_delete=models.PROTECT, related_name="leads")
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "lead"], name="erased_lead_once")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} erased"
