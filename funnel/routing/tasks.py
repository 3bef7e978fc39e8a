"""Celery doors to routing and the SLA: ids in, tenant entered by OrgTask, service called."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from funnel.routing import services
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(base=OrgTask, name="routing.sla_process", **RETRY)
def sla_process_task(*, organization_id: int) -> dict[str, int]:
    """Reminders and reassignments due now in one organization (safe to run twice at once)."""
    run = services.sla_process(org=current_organization())
    return {"reminded": run.reminded, "reassigned": run.reassigned, "kept": run.kept}


@shared_task
def sla_process_all() -> int:
    """Beat fan-out (every few minutes): one SLA task per organization (Organization is not
    tenant-owned; which leads are due is known only inside each tenant)."""
    organization_ids = list(Organization.objects.values_list("pk", flat=True))
    for organization_id in organization_ids:
        sla_process_task.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(base=OrgTask, name="routing.route_after_scoring", **RETRY)
def lead_route_after_scoring_task(*, organization_id: int, lead_id: int) -> bool:
    return services.lead_route_after_scoring(org=current_organization(), lead_id=lead_id)
