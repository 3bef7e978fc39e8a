"""Celery doors to the snapshot service: the hourly fan-out and one recompute per organization."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from leadtrack.celery import app
from leadtrack.tenancy.context import current_organization, tenant_context
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask
from reports import services
from reports.models import SnapshotRun

logger = logging.getLogger(__name__)

# Local hour at which each organization's nightly recompute runs.
NIGHTLY_LOCAL_HOUR = 2


class SnapshotTask(OrgTask):
    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # The run's own transaction rolled back with the work: record the failure in a new one.
        organization = Organization.objects.get(pk=kwargs["organization_id"])
        with tenant_context(organization):
            services.snapshot_run_fail(
                org=organization,
                run_id=kwargs.get("run_id"),
                trigger=kwargs.get("trigger", SnapshotRun.Trigger.NIGHTLY),
                error=f"{type(exc).__name__}: {exc}",
            )


@app.task(
    base=SnapshotTask,
    name="reports.snapshot_recompute",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def snapshot_recompute_task(
    *, organization_id: int, run_id: int | None = None, trigger: str = SnapshotRun.Trigger.NIGHTLY
) -> int:
    run = services.snapshot_recompute(org=current_organization(), trigger=trigger, run_id=run_id)
    logger.info(
        "snapshot recompute org=%s run=%s rows=%s duration_ms=%s",
        organization_id,
        run.pk,
        run.rows_written,
        run.duration_ms,
    )
    return run.pk


def organizations_at_local_hour(*, hour: int, now=None) -> list[Organization]:
    """Organizations whose local time is within ``hour`` (the fan-out runs hourly)."""
    now = now or timezone.now()
    return [
        organization
        for organization in Organization.objects.order_by("pk")
        if timezone.localtime(now, organization.tzinfo).hour == hour
    ]


@app.task(name="reports.snapshot_fanout")
def snapshot_fanout() -> list[int]:
    """Hourly (beat): queue the nightly recompute of every organization where it is now 02:xx."""
    due = organizations_at_local_hour(hour=NIGHTLY_LOCAL_HOUR)
    for organization in due:
        snapshot_recompute_task.delay(organization_id=organization.pk, trigger=SnapshotRun.Trigger.NIGHTLY)
    return [organization.pk for organization in due]
