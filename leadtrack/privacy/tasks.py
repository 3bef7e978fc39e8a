"""Celery doors to retention: a daily fan-out and one idempotent run per organization."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError

from leadtrack.celery import app
from leadtrack.privacy import services
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask

logger = logging.getLogger(__name__)


@app.task(
    base=OrgTask,
    name="privacy.retention_run",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def retention_run_task(*, organization_id: int) -> int:
    """Anonymise this organization's leads past retention; returns how many (0 when off)."""
    erasure = services.retention_run(org=current_organization())
    count = erasure.lead_count if erasure else 0
    logger.info("privacy retention org=%s leads_anonymised=%s", organization_id, count)
    return count


@app.task(name="privacy.retention_fanout")
def retention_fanout() -> list[int]:
    """Daily (beat): one retention run per organization. Settings are tenant rows that a task
    without a tenant cannot read, so each run checks its own and returns at once when off."""
    ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        retention_run_task.delay(organization_id=organization_id)
    return ids
