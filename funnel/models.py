from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from funnel.stages import Stage
from leads.models import Lead, Via
from leadtrack.tenancy.models import TenantModel


class StageTransition(TenantModel):
    """Append-only log of stage changes; written only by funnel.services.stage_move."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.UI)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "lead", "at"], name="transition_org_lead_idx"),
            models.Index(fields=["organization", "to_stage", "at"], name="transition_org_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage or '∅'} → {self.to_stage} at {self.at:%Y-%m-%d %H:%M}"
