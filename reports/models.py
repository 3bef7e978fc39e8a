from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from leadtrack.tenancy.models import TenantModel

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def _percent_field(default: int, label: str) -> models.DecimalField:
    return models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(default), validators=PERCENT, verbose_name=label
    )


class ReportSettings(TenantModel):
    """Per-organization inputs of the metrics (docs/metrics.md): benchmarks, LTV inputs, SLA, probabilities.

    Percentages are stored as percent (30 = 30 %); money as integer minor units.
    """

    benchmark_lead_to_mql = _percent_field(30, "Benchmark Lead→MQL (%)")
    benchmark_mql_to_sql = _percent_field(20, "Benchmark MQL→SQL (%)")
    benchmark_sql_to_opportunity = _percent_field(35, "Benchmark SQL→Opportunity (%)")
    benchmark_opportunity_to_close = _percent_field(25, "Benchmark Opportunity→Close (%)")
    monthly_value_per_customer = models.BigIntegerField(
        default=0,
        validators=[MinValueValidator(0)],
        verbose_name="Monthly value per customer (minor units)",
    )
    gross_margin = _percent_field(70, "Gross margin (%)")
    customer_lifetime_months = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1)], verbose_name="Customer lifetime (months)"
    )
    first_contact_sla_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1)], verbose_name="First-contact SLA (hours)"
    )
    probability_lead = _percent_field(5, "Stage probability: Lead (%)")
    probability_mql = _percent_field(10, "Stage probability: MQL (%)")
    probability_sql = _percent_field(25, "Stage probability: SQL (%)")
    probability_opportunity = _percent_field(50, "Stage probability: Opportunity (%)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "report settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="report_settings_one_per_org")]

    def __str__(self) -> str:
        return f"Report settings of {self.organization_id}"


class Grain(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "ISO week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class MetricSnapshot(TenantModel):
    """The snapshot measures of one period and one slice, as the last recompute found them.

    ``dimension`` is "" for the organization's total; ``dimension_value`` is the
    slice's key as text ("" = no value, e.g. leads without a source). ``measures``
    maps every snapshot measure (reports.services.SNAPSHOT_MEASURES: the numerators
    and denominators of reports.metrics.SNAPSHOT_METRICS) to its count, so one row
    answers every snapshot metric of its slice. Only slices with at least one event
    are stored: a missing row is a count of 0 or a rate of 0/0 ("—").
    """

    grain = models.CharField(max_length=10, choices=Grain.choices)
    period_start = models.DateField()
    period_end = models.DateField(
        help_text="Exclusive: the period is [start, end) in the organization's zone."
    )
    dimension = models.CharField(max_length=30, blank=True)
    dimension_value = models.CharField(max_length=100, blank=True)
    measures = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "grain", "dimension", "dimension_value", "period_start"],
                name="metric_snapshot_slice_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period_start} {self.dimension}={self.dimension_value}"


class SnapshotRun(TenantModel):
    """One recompute of an organization's snapshots: when, how long, how it went."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        MANUAL = "manual", "Recompute now"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The organization's zone the run bucketed periods in: its rows answer only while it is unchanged.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(models.F("organization"), models.F("queued_at").desc(), name="snapshotrun_org_idx")
        ]

    def __str__(self) -> str:
        return f"{self.trigger} run {self.pk} ({self.status})"
