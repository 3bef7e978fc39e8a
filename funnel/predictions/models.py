"""The predictive score: fitted models per organization, their runs, the leads' predictions and the
monthly win forecast. Parameters are plain JSON (coefficients by feature name): no pickle is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from leads.models import Lead
from leadtrack.tenancy.models import TenantModel


class Trigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly"
    MANUAL = "manual", "Retrain now"
    COMMAND = "command", "Operator command"


class PredictionModel(TenantModel):
    """One fitted version of an organization's model; exactly one is active at a time (or none)."""

    version = models.PositiveIntegerField()
    is_active = models.BooleanField(default=False)
    trained_at = models.DateTimeField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    won_count = models.PositiveIntegerField()
    lost_count = models.PositiveIntegerField(help_text="Closed lost or disqualified.")
    holdout_count = models.PositiveIntegerField()
    holdout_auc = models.FloatField(null=True, blank=True)
    cv_auc = models.FloatField(null=True, blank=True)
    cv_auc_std = models.FloatField(null=True, blank=True)
    cv_folds = models.PositiveSmallIntegerField(default=0)
    # [{"low", "high", "n", "mean_predicted", "observed"}]: out-of-fold predictions of the CV.
    calibration = models.JSONField(default=list)
    # {"format", "method", "intercept", "coefficients": {feature name: coefficient}}: see training.py.
    parameters = models.JSONField()
    open_leads_scored = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="prediction_model_version_unique"
            ),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_active=True), name="prediction_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"model v{self.version} of {self.organization_id}"


class TrainingRun(TenantModel):
    """One request to retrain (nightly or by a person); ``run_key`` makes a retried or repeated
    request a no-op."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUCCEEDED = "succeeded", "Trained"
        NOT_ENOUGH_HISTORY = "not_enough_history", "Not enough history"
        FAILED = "failed", "Failed"

    run_key = models.CharField(max_length=80)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    message = models.CharField(max_length=500, blank=True)
    model = models.ForeignKey(
        PredictionModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "run_key"], name="training_run_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_key}: {self.status}"


class LeadPrediction(TenantModel):
    """The active model's probability that an open lead will be won, with its top factors.
    Written set-based by the training run; rows of leads no longer open are removed by it."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(PredictionModel, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    # [{"feature", "label", "contribution"}], largest |contribution| first.
    factors = models.JSONField(default=list)
    predicted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "lead"], name="lead_prediction_one_per_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.probability:.2f}"


class ForecastSnapshot(TenantModel):
    """The win forecast taken at the start of a month: Σ probabilities of the leads open then."""

    month = models.DateField(help_text="First day of the month, in the organization's time zone.")
    taken_at = models.DateTimeField()
    model = models.ForeignKey(PredictionModel, on_delete=models.SET_NULL, null=True, related_name="+")
    model_version = models.PositiveIntegerField()
    open_leads = models.PositiveIntegerField()
    expected_wins = models.FloatField()

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="forecast_snapshot_month_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.expected_wins:.1f} of {self.open_leads}"


class ForecastLead(TenantModel):
    """A lead open when the month's forecast was taken, with its probability then: the actual
    outcome of the month is counted over exactly these leads."""

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "snapshot", "lead"], name="forecast_lead_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.lead_id}"
