"""The stage service: the only way a lead moves through the funnel.

The board, the lead page, the API, the importer and the scoring threshold
all call ``stage_move``; it validates the move, locks the lead row, and writes
the transition, the stage and the funnel timestamps in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from funnel.models import StageTransition
from funnel.stages import REACHED_FIELD, Stage, allowed_targets, stages_reached_by
from leads import signals
from leads.models import Lead, Via
from leads.services import LeadError, StaleLeadError
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Organization

# A clock a little ahead of ours (another server, a client) is not "the future".
CLOCK_SKEW = timedelta(minutes=5)


class StageConflictError(LeadError):
    """Someone else moved the lead first; the caller's view of it is out of date."""


def _requirements(*, lead: Lead, to_stage: str, reason: str, amount: int | None) -> dict[str, str]:
    errors = {}
    if to_stage in (Stage.LOST, Stage.DISQUALIFIED) and not reason.strip():
        errors["reason"] = f"Say why the lead is {Stage(to_stage).label.lower()}."
    if to_stage == Stage.OPPORTUNITY and amount is None and lead.expected_amount is None:
        errors["amount"] = "An opportunity needs an expected amount."
    if to_stage == Stage.WON and amount is None and lead.expected_amount is None and lead.won_amount is None:
        errors["amount"] = "A won deal needs its amount."
    if amount is not None and amount < 0:
        errors["amount"] = "Must be zero or more."
    return errors


@transaction.atomic
def stage_move(
    *,
    org: Organization,
    actor: User | None,
    lead_id: int,
    to_stage: str,
    reason: str = "",
    at: datetime | None = None,
    amount: int | None = None,
    expected_stage: str | None = None,
    expected_version: int | None = None,
    via: str = Via.UI,
) -> StageTransition:
    """Move a lead to ``to_stage``.

    - ``expected_stage`` / ``expected_version``: what the caller saw. If the lead
      moved meanwhile (two reps at once), raises StageConflictError / StaleLeadError
      and writes nothing.
    - Raises ValidationError for a move the funnel does not allow or a missing
      requirement (reason for lost/disqualified, amount for opportunity/won).
    - ``at`` (imports, migrations): when it happened; not in the future, not before
      the lead's creation or its last transition.
    - Skipped stages count as reached at ``at``; ``reached_*_at`` only ever move earlier.
    """
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": "Unknown stage."})
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    if expected_version is not None and lead.version != expected_version:
        raise StaleLeadError(
            "This lead was changed by someone else since you opened it. Reload and try again."
        )
    if expected_stage is not None and lead.stage != expected_stage:
        last = lead.transitions.order_by("-at", "-pk").select_related("by").first()
        who = f" by {last.by}" if last and last.by else ""
        raise StageConflictError(
            f"This lead was moved to {Stage(lead.stage).label}{who} a moment ago; your move was not applied."
        )
    if to_stage not in allowed_targets(lead.stage):
        raise ValidationError(
            {"to_stage": f"A lead cannot move from {Stage(lead.stage).label} to {Stage(to_stage).label}."}
        )
    errors = _requirements(lead=lead, to_stage=to_stage, reason=reason, amount=amount)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise ValidationError({"at": "Cannot be in the future."})
    if at < lead.created_at:
        raise ValidationError({"at": "Cannot be before the lead was created."})
    last_at = lead.transitions.order_by("-at").values_list("at", flat=True).first()
    if last_at is not None and at < last_at:
        raise ValidationError({"at": "Cannot be before the lead's last stage change."})

    from_stage = lead.stage
    for reached in stages_reached_by(to_stage):
        field = REACHED_FIELD.get(reached)
        if field and (getattr(lead, field) is None or getattr(lead, field) > at):
            setattr(lead, field, at)
    if to_stage == Stage.OPPORTUNITY and amount is not None:
        lead.expected_amount = amount
    if to_stage == Stage.WON:
        lead.won_amount = amount if amount is not None else (lead.won_amount or lead.expected_amount)
    if to_stage in (Stage.WON, Stage.LOST):
        lead.closed_at = at
        lead.close_reason = reason
    elif to_stage == Stage.DISQUALIFIED:
        lead.close_reason = reason
    elif to_stage == Stage.LEAD:  # recycled: open again; reached_* stay as they were
        lead.closed_at = None
        lead.close_reason = ""
    lead.stage = to_stage
    lead.version += 1
    lead.save()
    transition = StageTransition.objects.create(
        organization=org,
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        at=at,
        by=actor,
        via=via,
        reason=reason,
    )
    transaction.on_commit(
        lambda: signals.lead_stage_changed.send(
            sender=Lead,
            organization_id=org.pk,
            lead_id=lead.pk,
            actor_id=actor.pk if actor else None,
            via=via,
            from_stage=from_stage,
            to_stage=to_stage,
            transition_id=transition.pk,
        )
    )
    return transition
