"""Celery doors to the submission services, and the sweeper that makes them durable.

The web request stores a submission and only then tries the broker; when the broker
was down (or the worker lost the message), the per-minute sweeper finds the pending
row and processes it. Every task is idempotent: a submission is processed once.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from capture.forms import services
from leadtrack.tenancy.context import current_organization, tenant_context
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask

logger = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(base=OrgTask, name="webforms.submission_process", acks_late=True, **_RETRY)
def submission_process_task(*, organization_id: int, submission_id: int) -> str:
    return services.submission_process(org=current_organization(), submission_id=submission_id).status


@shared_task(base=OrgTask, name="webforms.submission_confirmation_send", acks_late=True, **_RETRY)
def submission_confirmation_send_task(*, organization_id: int, submission_id: int) -> None:
    services.submission_confirmation_send(org=current_organization(), submission_id=submission_id)


@shared_task(base=OrgTask, name="webforms.submissions_sweep_org", acks_late=True, **_RETRY)
def submissions_sweep_org(*, organization_id: int) -> dict[str, int]:
    """Process what one organization still owes; one failing submission does not stop the rest."""
    org = current_organization()
    pending, unsent = services.submissions_due(org=org)
    done = {"processed": 0, "confirmations": 0, "failed": 0}
    for submission_id in pending:
        try:
            services.submission_process(org=org, submission_id=submission_id)
            done["processed"] += 1
        except Exception as exc:
            logger.exception("form submission %s failed", submission_id)
            services.submission_attempt_failed(org=org, submission_id=submission_id, error=repr(exc))
            done["failed"] += 1
    for submission_id in unsent:
        services.submission_confirmation_send(org=org, submission_id=submission_id)
        done["confirmations"] += 1
    return done


@shared_task(name="webforms.submissions_sweep")
def submissions_sweep() -> list[int]:
    """Every minute (beat): one sweep task per organization that has submissions waiting."""
    due = []
    for organization in Organization.objects.order_by("pk"):
        with tenant_context(organization):
            pending, unsent = services.submissions_due(org=organization)
        if pending or unsent:
            due.append(organization.pk)
            submissions_sweep_org.delay(organization_id=organization.pk)
    return due
