"""Celery doors to rescoring: the debounced per-lead queue, bulk-run steps and the nightly decay.

Leads to rescore are collected in a Redis set per (organization, reason) and drained by one task
a moment later: a 500-row import sends 500 ``lead_created`` signals within milliseconds, and they
are scored as one batch (a fixed number of queries per chunk), not by 500 tasks. The set is
cleared only after the batch commits, so a killed worker leaves the ids for the retry.
"""

from __future__ import annotations

import logging

import redis
from django.db import InterfaceError, OperationalError, transaction

from leadtrack.celery import app
from leadtrack.redis_clients import shared_redis
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.tasks import OrgTask

from . import services
from .models import RescoreRun, RuleKind, ScoreReason, ScoringRule

logger = logging.getLogger(__name__)

# Signals arriving within this many seconds share one batch.
DEBOUNCE_SECONDS = 2
# A queued drain that never ran (lost message) stops blocking new ones after this long.
SCHEDULED_TTL_SECONDS = 300
DRAIN_LIMIT = 2000
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def _redis() -> redis.Redis:
    return shared_redis()


def _pending_key(organization_id: int, reason: str) -> str:
    return f"scoring:pending:{organization_id}:{reason}"


def _scheduled_key(organization_id: int, reason: str) -> str:
    return f"scoring:pending-scheduled:{organization_id}:{reason}"


def rescore_soon(*, organization_id: int, lead_ids: list[int], reason: str) -> None:
    """Queue leads for rescoring; one drain task per (organization, reason) is scheduled at a time."""
    # One round trip for both (every lead write comes here); no MULTI: the drain task clears the
    # scheduled flag before it reads the set, so an id added in between schedules its own drain.
    pipe = _redis().pipeline(transaction=False)
    pipe.sadd(_pending_key(organization_id, reason), *lead_ids)
    pipe.set(_scheduled_key(organization_id, reason), "1", nx=True, ex=SCHEDULED_TTL_SECONDS)
    _, scheduled = pipe.execute()
    if scheduled:
        pending_rescore_task.apply_async(
            kwargs={"organization_id": organization_id, "reason": reason}, countdown=DEBOUNCE_SECONDS
        )


def rescore_later(*, organization_id: int, lead_ids: list[int], reason: str) -> None:
    """Queue leads without scheduling a drain: the batch they belong to ends with rescore_pending."""
    _redis().sadd(_pending_key(organization_id, reason), *lead_ids)


def rescore_pending(*, organization_id: int, reason: str) -> None:
    """Schedule the drain of what rescore_later queued (once per organization and reason)."""
    _reschedule(organization_id, reason)


@app.task(base=OrgTask, name="scoring.pending_rescore", **RETRY)
def pending_rescore_task(*, organization_id: int, reason: str) -> int:
    """Rescore the queued leads of one organization and reason, in chunks; returns how many."""
    client = _redis()
    pending = _pending_key(organization_id, reason)
    # Cleared first: ids queued from now on schedule their own drain.
    client.delete(_scheduled_key(organization_id, reason))
    lead_ids = sorted({int(value) for value in client.srandmember(pending, DRAIN_LIMIT)})
    org = current_organization()
    for start in range(0, len(lead_ids), services.CHUNK_SIZE):
        services.leads_rescore(org=org, lead_ids=lead_ids[start : start + services.CHUNK_SIZE], reason=reason)

    def forget_and_continue() -> None:
        if lead_ids:
            client.srem(pending, *lead_ids)
        if client.scard(pending):
            _reschedule(organization_id, reason)

    transaction.on_commit(forget_and_continue)
    return len(lead_ids)


def _reschedule(organization_id: int, reason: str) -> None:
    if _redis().set(_scheduled_key(organization_id, reason), "1", nx=True, ex=SCHEDULED_TTL_SECONDS):
        pending_rescore_task.apply_async(kwargs={"organization_id": organization_id, "reason": reason})


@app.task(base=OrgTask, name="scoring.rescore_run_step", **RETRY)
def rescore_run_step_task(*, organization_id: int, run_id: int) -> int:
    """One chunk of a bulk run, committed with its progress; then the next chunk is queued."""
    run = services.rescore_run_step(org=current_organization(), run_id=run_id)
    if run.finished_at is None:
        transaction.on_commit(
            lambda: rescore_run_step_task.delay(organization_id=organization_id, run_id=run_id)
        )
    return run.done


@app.task(base=OrgTask, name="scoring.rescore_decay", **RETRY)
def rescore_decay_task(*, organization_id: int) -> int | None:
    """Nightly: rescore the leads holding behaviour points when some rule decays; the run's id."""
    decaying = ScoringRule.objects.filter(
        organization_id=organization_id, kind=RuleKind.ACTIVITY, half_life_days__isnull=False
    ).exists()
    if not decaying:
        return None
    run = services.rescore_run_start(
        org=current_organization(), actor=None, reason=ScoreReason.DECAY, scope=RescoreRun.Scope.BEHAVIOUR
    )
    return run.pk


@app.task(name="scoring.rescore_decay_fanout")
def rescore_decay_fanout() -> list[int]:
    """Beat, nightly: queue the decay rescoring of every organization."""
    organization_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in organization_ids:
        rescore_decay_task.delay(organization_id=organization_id)
    return organization_ids
