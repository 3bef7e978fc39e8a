"""Celery doors: the hourly fan-out and the one e-mail of a quarter's report per organization."""

from __future__ import annotations

from smtplib import SMTPException

from leadtrack.celery import app
from leadtrack.tenancy.context import current_organization, tenant_context
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask
from reports.quarterly import services
from reports.quarterly.models import ReportDelivery, ReportSubscription
from reports.quarterly.selectors import Quarter


@app.task(
    base=OrgTask,
    name="reports.quarterly.email",
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def quarterly_report_email_task(*, organization_id: int, year: int, quarter: int) -> int | None:
    delivery = services.report_email_send(org=current_organization(), quarter=Quarter(year, quarter))
    return delivery.pk if delivery else None


@app.task(name="reports.quarterly.email_fanout")
def quarterly_report_email_fanout() -> list[int]:
    """Hourly (beat): queue the e-mail of last quarter's report for every subscribed organization
    whose local time is past the start of the new quarter's first working day and that has not had it."""
    queued = []
    for organization in Organization.objects.order_by("pk"):
        quarter = services.quarter_due(org=organization)
        if quarter is None:
            continue
        with tenant_context(organization):
            subscribed = ReportSubscription.objects.filter(organization=organization).exists()
            sent = ReportDelivery.objects.filter(
                organization=organization, year=quarter.year, quarter=quarter.number
            ).exists()
        if subscribed and not sent:
            quarterly_report_email_task.delay(
                organization_id=organization.pk, year=quarter.year, quarter=quarter.number
            )
            queued.append(organization.pk)
    return queued
