"""Reads of lead scoring: the model page, the lead panel and the API share these."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from leads.models import Lead
from leadtrack.tenancy.models import Organization

from .models import BantChecklist, LeadScore, RescoreRun, ScoreChange, ScoringRule
from .services import scoring_settings

HISTORY_LIMIT = 10


def scoring_rule_list(*, org: Organization) -> QuerySet[ScoringRule]:
    return ScoringRule.objects.filter(organization=org).select_related("industry").order_by("position", "pk")


def scoring_rule_get(*, org: Organization, rule_id: int) -> ScoringRule:
    """One rule of ``org``. Raises ScoringRule.DoesNotExist (→ 404) for another tenant's."""
    return ScoringRule.objects.get(organization=org, pk=rule_id)


def rescore_run_latest(*, org: Organization) -> RescoreRun | None:
    return RescoreRun.objects.filter(organization=org).order_by("-started_at", "-pk").first()


def rescore_run_get(*, org: Organization, run_id: int) -> RescoreRun:
    """Raises RescoreRun.DoesNotExist (→ 404) for another tenant's run."""
    return RescoreRun.objects.get(organization=org, pk=run_id)


@dataclass(frozen=True)
class LeadScoreView:
    score: int
    explanation: list[dict]
    computed_at: object
    history: list[ScoreChange]
    bant: BantChecklist
    bant_required: int


def lead_score_view(*, org: Organization, lead: Lead, history_limit: int = HISTORY_LIMIT) -> LeadScoreView:
    """The explanation, recent history and BANT checklist of a lead the caller may see
    (visibility is the caller's check: lead_get)."""
    record = LeadScore.objects.filter(organization=org, lead=lead).first()
    history = list(
        ScoreChange.objects.filter(organization=org, lead=lead).order_by("-at", "-pk")[:history_limit]
    )
    bant = BantChecklist.objects.filter(organization=org, lead=lead).first() or BantChecklist(
        organization=org, lead=lead
    )
    return LeadScoreView(
        score=lead.score,
        explanation=record.explanation if record else [],
        computed_at=record.computed_at if record else None,
        history=history,
        bant=bant,
        bant_required=scoring_settings(org=org).bant_required,
    )
