"""Celery doors to the referral services: ids in, tenant entered by OrgTask, service called."""

from __future__ import annotations

from celery import shared_task

from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask
from referrals import services

RETRY = {"autoretry_for": (Exception,), "retry_backoff": True, "max_retries": 5}


@shared_task(base=OrgTask, **RETRY)
def referral_lead_stage_changed(*, organization_id: int, lead_id: int) -> None:
    """A referred lead moved: follow it and grant the reward once (safe to run twice)."""
    services.referral_sync_with_lead(org=current_organization(), lead_id=lead_id)


@shared_task(base=OrgTask, **RETRY)
def referral_privacy_notice_send_task(*, organization_id: int, referral_id: int) -> None:
    """The Art. 14 notice to a referred person (sent once, however often this runs)."""
    services.referral_privacy_notice_send(org=current_organization(), referral_id=referral_id)


@shared_task(base=OrgTask, **RETRY)
def referral_expire(*, organization_id: int) -> int:
    return services.referral_expire_due(org=current_organization())


@shared_task(base=OrgTask, **RETRY)
def partner_tiers_recompute(*, organization_id: int) -> int:
    return len(services.tiers_recompute(org=current_organization()))


@shared_task
def referral_expire_all() -> None:
    """Beat fan-out: one expiry task per organization (Organization is not tenant-owned)."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        referral_expire.delay(organization_id=organization_id)


@shared_task
def partner_tiers_recompute_all() -> None:
    """Nightly beat fan-out: one tier recomputation per organization."""
    for organization_id in Organization.objects.values_list("pk", flat=True):
        partner_tiers_recompute.delay(organization_id=organization_id)
