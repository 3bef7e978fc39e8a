"""Writes of the reports app: snapshot recomputes and report settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Organization
from reports import queries
from reports.metrics import SNAPSHOT_METRICS
from reports.models import Grain, MetricSnapshot, ReportSettings, SnapshotRun
from reports.selectors import report_settings_get

# Snapshot history: per month, for the organization and each slice of every dimension; per ISO
# week, for the organization only (weekly slices would multiply the rows by ~4 for little use).
# Quarters are sums of months.
SNAPSHOT_DIMENSIONS: dict[str, tuple[str, ...]] = {
    Grain.MONTH.value: (
        "source",
        "channel_type",
        "campaign",
        "region",
        "country",
        "industry",
        "segment",
        "owner",
        "partner",
    ),
    Grain.WEEK.value: (),
}
SNAPSHOT_GRAINS: tuple[str, ...] = tuple(SNAPSHOT_DIMENSIONS)
# The funnel measures the snapshot metrics divide (their numerators and denominators).
SNAPSHOT_MEASURES: tuple[str, ...] = tuple(
    name
    for name in queries.FUNNEL_MEASURES
    if any(name in (metric.numerator, metric.denominator) for metric in SNAPSHOT_METRICS)
)
# First key of pg_advisory_xact_lock(int, int): "snapshot recompute"; the second is the organization.
SNAPSHOT_LOCK_NAMESPACE = 5_201
PROGRESS_TTL_SECONDS = 3600

PERIOD_LENGTH = {Grain.MONTH.value: "1 month", Grain.WEEK.value: "7 days", Grain.QUARTER.value: "3 months"}


def snapshot_progress_key(*, org_id: int, run_id: int) -> str:
    return f"reports:snapshot-progress:{org_id}:{run_id}"


def _snapshot_insert_sql() -> str:
    """One INSERT … SELECT writing every grain and slice: one pass over the lead events.

    GROUPING SETS give, per grain, the organization's total per period and each
    dimension's slices per period; every measure of a group is a conditional
    aggregate of that same pass, stored together in the group's one row.
    """
    buckets = {
        grain: queries.period_bucket(grain=grain, column="e.at", tz_param="%(tz)s", start_param="")
        for grain in SNAPSHOT_GRAINS
    }
    dimensions = [
        queries.DIMENSIONS[name]
        for name in dict.fromkeys(name for names in SNAPSHOT_DIMENSIONS.values() for name in names)
    ]
    grouping_sets = ", ".join(
        f"({bucket}{''.join(f', {queries.DIMENSIONS[name].lead_key}' for name in names)})"
        for grain, bucket in buckets.items()
        for names in [(), *((name,) for name in SNAPSHOT_DIMENSIONS[grain])]
    )
    # In a grouping set, the expressions it does not group by are NULL.
    grain = " ".join(f"WHEN grouping({bucket}) = 0 THEN '{name}'" for name, bucket in buckets.items())
    period_start = f"coalesce({', '.join(buckets.values())})"
    period_end = " ".join(
        f"WHEN grouping({bucket}) = 0 THEN ({bucket} + interval '{PERIOD_LENGTH[name]}')::date"
        for name, bucket in buckets.items()
    )
    no_dimension = "WHEN false THEN NULL"  # a CASE needs one WHEN
    dimension_name = (
        " ".join(f"WHEN grouping({d.lead_key}) = 0 THEN '{d.name}'" for d in dimensions) or no_dimension
    )
    dimension_value = (
        " ".join(f"WHEN grouping({d.lead_key}) = 0 THEN ({d.lead_key})::text" for d in dimensions)
        or no_dimension
    )
    measures = ", ".join(f"'{name}', {queries.FUNNEL_MEASURES[name]}" for name in SNAPSHOT_MEASURES)
    return f"""INSERT INTO reports_metricsnapshot
    (organization_id, grain, period_start, period_end, dimension, dimension_value, measures, computed_at)
SELECT %(org)s,
    CASE {grain} END,
    {period_start},
    CASE {period_end} END,
    CASE {dimension_name} ELSE '' END,
    coalesce(CASE {dimension_value} END, ''),
    jsonb_build_object({measures}),
    %(as_of)s
FROM leads_lead l
{queries._joins(dimensions)}
{queries.EVENTS_LATERAL}
WHERE l.organization_id = %(org)s AND l.deleted_at IS NULL AND e.at < %(as_of)s
GROUP BY GROUPING SETS ({grouping_sets})"""


ProgressHook = Callable[[int, int], None]


def snapshot_recompute(
    *,
    org: Organization,
    trigger: str = SnapshotRun.Trigger.NIGHTLY,
    run_id: int | None = None,
    on_step: ProgressHook | None = None,
) -> SnapshotRun:
    """Recompute all of the organization's snapshots in ONE transaction.

    Idempotent: the organization's rows of every snapshot grain are deleted and
    rebuilt from the leads (one INSERT … SELECT), so running it twice gives the same
    rows, and a worker killed midway leaves the previous snapshot (rolled back).
    A transaction-level advisory lock per organization serializes concurrent
    recomputes (two beat ticks, a manual click during the nightly run).
    ``on_step(done, total)`` is called after each of the two write steps (progress).
    """
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SNAPSHOT_LOCK_NAMESPACE, org.pk])
            # JIT compiling this wide aggregate costs more than it saves below millions of events
            # (0.7 s of 2.4 s at 100k leads here); the setting ends with the transaction.
            cursor.execute("SET LOCAL jit = off")
        run = (
            SnapshotRun.objects.select_for_update().get(organization=org, pk=run_id)
            if run_id is not None
            else SnapshotRun(organization=org, trigger=trigger)
        )
        as_of = timezone.now()
        run.status = SnapshotRun.Status.RUNNING
        run.started_at = as_of
        run.time_zone = org.time_zone
        run.attempts += 1
        run.save()
        steps = 2  # delete the old rows, write the new ones

        def progress(done: int) -> None:
            cache.set(
                snapshot_progress_key(org_id=org.pk, run_id=run.pk),
                {"done": done, "total": steps},
                PROGRESS_TTL_SECONDS,
            )
            if on_step is not None:
                on_step(done, steps)

        progress(0)
        MetricSnapshot.objects.filter(organization=org, grain__in=SNAPSHOT_GRAINS).delete()
        progress(1)
        with connection.cursor() as cursor:
            cursor.execute(_snapshot_insert_sql(), {"org": org.pk, "tz": org.time_zone, "as_of": as_of})
            rows = cursor.rowcount
        progress(2)
        run.status = SnapshotRun.Status.DONE
        run.finished_at = timezone.now()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.rows_written = rows
        run.error = ""
        run.save()
    return run


def snapshot_run_request(*, org: Organization, actor: User) -> SnapshotRun:
    """Queue a "recompute now" run; the task starts after this transaction commits.

    A run already queued or running is returned instead of queueing another.
    """
    from reports.tasks import snapshot_recompute_task

    pending = (
        SnapshotRun.objects.filter(
            organization=org, status__in=[SnapshotRun.Status.QUEUED, SnapshotRun.Status.RUNNING]
        )
        .order_by("-queued_at")
        .first()
    )
    if pending is not None:
        return pending
    run = SnapshotRun.objects.create(organization=org, trigger=SnapshotRun.Trigger.MANUAL, requested_by=actor)
    snapshot_recompute_task.delay_on_commit(
        organization_id=org.pk, run_id=run.pk, trigger=SnapshotRun.Trigger.MANUAL
    )
    return run


def snapshot_run_fail(*, org: Organization, run_id: int | None, trigger: str, error: str) -> SnapshotRun:
    """Record a run that gave up (its own transaction rolled back with the work)."""
    run = (
        SnapshotRun.objects.filter(organization=org, pk=run_id).first() if run_id is not None else None
    ) or SnapshotRun(organization=org, trigger=trigger)
    run.status = SnapshotRun.Status.FAILED
    run.finished_at = timezone.now()
    run.error = error[:2000]
    run.save()
    return run


def report_settings_update(*, org: Organization, data: Mapping[str, Any]) -> ReportSettings:
    """Change the benchmarks, LTV inputs, SLA and probabilities; ValidationError on bad values."""
    settings_row = report_settings_get(org=org)
    editable = {field.name for field in ReportSettings._meta.fields} - {"id", "organization", "updated_at"}
    unknown = set(data) - editable
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    for field, value in data.items():
        setattr(settings_row, field, value)
    settings_row.full_clean(exclude=["organization"])
    settings_row.save()
    return settings_row
