"""Writes of the quarterly report: the manager's notes, e-mail subscriptions, the quarterly e-mail."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.core.mail import EmailMessage
from django.utils import timezone

from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import role_can
from reports.quarterly.exports import filename, render, report_markdown
from reports.quarterly.models import ReportDelivery, ReportNotes, ReportSubscription
from reports.quarterly.selectors import Quarter, quarterly_report

logger = logging.getLogger(__name__)

# The report of the quarter just ended goes out from this local hour of the new quarter's first
# working day; a fan-out that missed it (worker down) catches up during the following week.
SEND_FROM_LOCAL_HOUR = 7
CATCH_UP_DAYS = 7


def report_notes_save(
    *, org: Organization, actor: User, quarter: Quarter, recommendations: str, next_steps: str
) -> ReportNotes:
    notes, _ = ReportNotes.objects.select_for_update().get_or_create(
        organization=org, year=quarter.year, quarter=quarter.number
    )
    notes.recommendations = recommendations.strip()
    notes.next_steps = next_steps.strip()
    notes.updated_by = actor
    notes.save()
    return notes


def report_subscription_set(*, org: Organization, user: User, subscribed: bool) -> bool:
    if subscribed:
        ReportSubscription.objects.get_or_create(organization=org, user=user)
    else:
        ReportSubscription.objects.filter(organization=org, user=user).delete()
    return subscribed


def first_working_day(day: date) -> date:
    """The first Monday-to-Friday day on or after ``day`` (public holidays are not known)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def quarter_due(*, org: Organization, now: datetime | None = None) -> Quarter | None:
    """The quarter whose report is due by e-mail now in the organization's zone, if any."""
    local = timezone.localtime(now or timezone.now(), org.tzinfo)
    current = Quarter.containing(local.date())
    first = first_working_day(current.start)
    if first <= local.date() < first + timedelta(days=CATCH_UP_DAYS) and (
        local.date() > first or local.hour >= SEND_FROM_LOCAL_HOUR
    ):
        return current.previous()
    return None


def subscriber_emails(*, org: Organization) -> list[str]:
    """Subscribers who are still members allowed to read reports."""
    roles = dict(Membership.objects.filter(organization=org).values_list("user_id", "role"))
    return sorted(
        subscription.user.email
        for subscription in ReportSubscription.objects.filter(organization=org).select_related("user")
        if subscription.user_id in roles and role_can(roles[subscription.user_id], "reports.view")
    )


def report_email_send(*, org: Organization, quarter: Quarter) -> ReportDelivery | None:
    """E-mail the quarter's report to the subscribers, once: None when it was already sent or nobody
    is subscribed. The delivery row is written in the same transaction as the send: if sending fails,
    nothing is recorded and the next run sends it."""
    recipients = subscriber_emails(org=org)
    if not recipients:
        return None
    delivery, created = ReportDelivery.objects.get_or_create(
        organization=org,
        year=quarter.year,
        quarter=quarter.number,
        defaults={"recipients": "\n".join(recipients)},
    )
    if not created:
        return None
    report = quarterly_report(org=org, quarter=quarter)
    message = EmailMessage(
        subject=f"{org.name}: referral report {quarter.label}",
        body=report_markdown(report),
        to=recipients,
    )
    message.attach(filename(report, "pdf"), render(report, "pdf"), "application/pdf")
    message.send()
    logger.info(
        "quarterly report e-mailed org=%s quarter=%s recipients=%s", org.pk, quarter.slug, len(recipients)
    )
    return delivery
