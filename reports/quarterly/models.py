"""What a quarterly report keeps besides its numbers: the manager's text, subscriptions, deliveries."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from leadtrack.tenancy.models import TenantModel

QUARTER = [MinValueValidator(1), MaxValueValidator(4)]


class ReportNotes(TenantModel):
    """Recommendations and next steps of one quarter's report, written by a manager."""

    year = models.PositiveIntegerField()
    quarter = models.PositiveSmallIntegerField(validators=QUARTER)
    recommendations = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "report notes"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "quarter"], name="quarterly_notes_one_per_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"Notes {self.year}-Q{self.quarter}"


class ReportSubscription(TenantModel):
    """A member who wants each quarter's report e-mailed on the first working day after it ends."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="quarterly_subscription_one_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"Subscription of user {self.user_id}"


class ReportDelivery(TenantModel):
    """The one e-mail of a quarter's report to an organization's subscribers (the idempotency record)."""

    year = models.PositiveIntegerField()
    quarter = models.PositiveSmallIntegerField(validators=QUARTER)
    recipients = models.TextField(help_text="Addresses the report was sent to, one per line.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "report deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "quarter"], name="quarterly_delivery_one_per_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"Delivery {self.year}-Q{self.quarter}"
