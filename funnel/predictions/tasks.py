"""Celery doors to the predictions services: nightly retraining and the monthly forecast, each an
hourly fan-out that queues one OrgTask per organization at its local hour."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from funnel.predictions import services
from funnel.predictions.models import Trigger
from funnel.predictions.selectors import month_start
from leadtrack.celery import app
from leadtrack.tenancy.context import current_organization, tenant_context
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask
from reports.tasks import organizations_at_local_hour

logger = logging.getLogger(__name__)

# Local hours: retrain after the 02:00 metric snapshots; the forecast in the first hours of a month
# (any hour catches up: the snapshot is taken once per month, whenever the first run comes).
RETRAIN_LOCAL_HOUR = 3


class TrainingTask(OrgTask):
    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # The run's transaction rolled back with the work: the previous model stays active.
        organization = Organization.objects.get(pk=kwargs["organization_id"])
        with tenant_context(organization):
            services.training_run_fail(
                org=organization,
                run_key=kwargs["run_key"],
                trigger=kwargs.get("trigger", Trigger.NIGHTLY),
                error=f"{type(exc).__name__}: {exc}",
            )


@app.task(
    base=TrainingTask,
    name="predictions.model_train",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def prediction_model_train_task(*, organization_id: int, run_key: str, trigger: str = Trigger.NIGHTLY) -> str:
    run = services.prediction_model_train(org=current_organization(), run_key=run_key, trigger=trigger)
    logger.info("prediction training org=%s run=%s status=%s", organization_id, run_key, run.status)
    return run.status


@app.task(name="predictions.retrain_fanout")
def prediction_retrain_fanout() -> list[int]:
    """Hourly (beat): queue the nightly retraining of every organization where it is now 03:xx."""
    now = timezone.now()
    due = organizations_at_local_hour(hour=RETRAIN_LOCAL_HOUR, now=now)
    for organization in due:
        local_day = timezone.localtime(now, organization.tzinfo).date()
        prediction_model_train_task.delay(
            organization_id=organization.pk,
            run_key=f"nightly:{local_day.isoformat()}",
            trigger=Trigger.NIGHTLY,
        )
    return [organization.pk for organization in due]


@app.task(
    base=OrgTask,
    name="predictions.forecast_snapshot",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def forecast_snapshot_task(*, organization_id: int) -> int | None:
    snapshot = services.forecast_snapshot_take(org=current_organization())
    return None if snapshot is None else snapshot.pk


@app.task(name="predictions.forecast_fanout")
def forecast_fanout() -> list[int]:
    """Hourly (beat): on the first day of each organization's local month, queue its forecast
    snapshot (idempotent per month: later hours of the day find it taken)."""
    now = timezone.now()
    due = [
        organization
        for organization in Organization.objects.order_by("pk")
        if timezone.localtime(now, organization.tzinfo).date() == month_start(now, organization.tzinfo)
    ]
    for organization in due:
        forecast_snapshot_task.delay(organization_id=organization.pk)
    return [organization.pk for organization in due]
