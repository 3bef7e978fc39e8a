"""Writes of lead scoring: the rules, the settings, rescoring (one lead, a batch, bulk runs) and BANT.

How a score is computed (``score_compute``, pure):
- A fit rule adds its points once when the lead matches it (industry, segment, region,
  employees in [min, max], a seniority keyword as a whole word of the job title).
- A behaviour rule (``activity``) counts the lead's activities of its kind (and, if set, whose URL
  contains ``url_contains``): the ``max_count`` most recent ones, each worth
  ``points * 0.5 ** (age in days / half_life_days)`` (no decay without a half-life). The same
  activity counts once per rule; two rules may both count it.
- Each rule's contribution is rounded to a whole number once; the score is the sum of those
  rounded contributions, so the explanation always adds up to ``Lead.score``.

Rescoring locks the lead rows (select_for_update, in id order), writes the score, the explanation
and a history row only when something changed, promotes to MQL when the organization turned it on,
and sends ``lead_scored`` after commit.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads import signals
from leads.models import Activity, Lead, LeadChange, Via
from leadtrack.accounts.models import User
from leadtrack.pgarrays import array_literal
from leadtrack.tenancy.models import Organization

from .models import (
    BantChecklist,
    LeadScore,
    RescoreRun,
    RuleKind,
    ScoreChange,
    ScoreReason,
    ScoringRule,
    ScoringSettings,
)

# Leads per transaction of a bulk run: small enough to keep row locks short, large enough that
# a 100,000-lead organization is rescored in 200 steps.
CHUNK_SIZE = 500
BANT_FIELDS = ("budget", "authority", "need", "timeline")
DEFAULT_SENIORITY_KEYWORDS = "VP, Vice President, Director, Head, Chief, CEO, CTO, CFO, COO, CMO, CIO"


# ---------------------------------------------------------------------------------------------
# The pure computation


@dataclass(frozen=True)
class ExplanationLine:
    rule_id: int
    name: str
    category: str  # "fit" or "behaviour"
    points: int
    detail: str

    def as_json(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "name": self.name,
            "category": self.category,
            "points": self.points,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Explanation:
    lines: tuple[ExplanationLine, ...] = field(default_factory=tuple)

    @property
    def score(self) -> int:
        return sum(line.points for line in self.lines)

    @property
    def behaviour_points(self) -> int:
        return sum(line.points for line in self.lines if line.category == "behaviour")

    def as_json(self) -> list[dict]:
        return [line.as_json() for line in self.lines]


def seniority_keywords(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


def _title_match(rule: ScoringRule, job_title: str) -> str | None:
    for keyword in seniority_keywords(rule.title_keywords):
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", job_title, flags=re.IGNORECASE):
            return keyword
    return None


def _fit_detail(rule: ScoringRule, lead: Lead) -> str | None:
    """Why the lead matches ``rule`` (shown beside the points), or None when it does not."""
    if rule.kind == RuleKind.INDUSTRY:
        return (
            f"industry {lead.industry}" if lead.industry_id and lead.industry_id == rule.industry_id else None
        )
    if rule.kind == RuleKind.SEGMENT:
        return (
            f"segment {lead.get_segment_display()}" if lead.segment and lead.segment == rule.segment else None
        )
    if rule.kind == RuleKind.REGION:
        return f"region {lead.get_region_display()}" if lead.region and lead.region == rule.region else None
    if rule.kind == RuleKind.EMPLOYEES:
        if lead.employees is None:
            return None
        if rule.employees_min is not None and lead.employees < rule.employees_min:
            return None
        if rule.employees_max is not None and lead.employees > rule.employees_max:
            return None
        return f"{lead.employees} employees"
    if rule.kind == RuleKind.SENIORITY:
        keyword = _title_match(rule, lead.job_title or "")
        return f'title "{lead.job_title}" ({keyword})' if keyword else None
    return None


def decay_factor(*, occurred_at: datetime, now: datetime, half_life_days: int | None) -> float:
    """0.5 ** (age in days / half-life); 1 without a half-life or for a future activity."""
    if not half_life_days:
        return 1.0
    age_days = max(0.0, (now - occurred_at).total_seconds() / 86400.0)
    return 0.5 ** (age_days / half_life_days)


def _activity_matches(rule: ScoringRule, activity: Activity) -> bool:
    if activity.kind != rule.activity_kind:
        return False
    return not rule.url_contains or rule.url_contains.lower() in (activity.url or "").lower()


def score_compute(
    *, rules: Sequence[ScoringRule], lead: Lead, activities: Iterable[Activity], now: datetime
) -> Explanation:
    """The explanation of ``lead``'s score under ``rules`` as of ``now``. No database access:
    ``lead.industry`` is read only for a matching industry rule (select it with the lead)."""
    newest_first = sorted(activities, key=lambda activity: activity.occurred_at, reverse=True)
    lines = []
    for rule in rules:
        if rule.kind == RuleKind.ACTIVITY:
            counted = [activity for activity in newest_first if _activity_matches(rule, activity)][
                : rule.max_count
            ]
            if not counted:
                continue
            raw = sum(
                rule.points
                * decay_factor(occurred_at=a.occurred_at, now=now, half_life_days=rule.half_life_days)
                for a in counted
            )
            points = round(raw)
            label = "activity" if len(counted) == 1 else "activities"
            newest_age = max(0, (now - counted[0].occurred_at).days)
            when = "today" if newest_age == 0 else f"{newest_age} d ago"
            detail = f"{len(counted)} {label}, the latest {when}"
            category = "behaviour"
        else:
            detail = _fit_detail(rule, lead)
            if detail is None:
                continue
            points = rule.points
            category = "fit"
        if points:
            lines.append(ExplanationLine(rule.pk, rule.name, category, points, detail))
    return Explanation(tuple(lines))


# ---------------------------------------------------------------------------------------------
# Settings and rules


def scoring_settings(*, org: Organization) -> ScoringSettings:
    """The organization's scoring settings (defaults until an admin saves them: auto MQL off)."""
    found = ScoringSettings.objects.filter(organization=org).first()
    return found or ScoringSettings(organization=org)


def bant_meets(*, ticked: int, required: int) -> bool:
    return ticked >= required


@transaction.atomic
def scoring_settings_update(
    *, org: Organization, actor: User | None, auto_mql_enabled: bool, mql_threshold: int, bant_required: int
) -> ScoringSettings:
    """Save the settings. A new BANT rule re-evaluates every checklist; turning automatic MQL on
    or changing its threshold rescoring all leads (which promotes those at or above it)."""
    current = scoring_settings(org=org)
    before = (current.auto_mql_enabled, current.mql_threshold, current.bant_required)
    current.auto_mql_enabled = auto_mql_enabled
    current.mql_threshold = mql_threshold
    current.bant_required = bant_required
    current.full_clean(exclude=["organization"])
    current.save()
    if before[2] != bant_required:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {BantChecklist._meta.db_table} SET meets_criteria = "
                "(budget::int + authority::int + need::int + timeline::int) >= %s "
                "WHERE organization_id = %s",
                [bant_required, org.pk],
            )
    if auto_mql_enabled and (not before[0] or before[1] != mql_threshold):
        rescore_run_start(org=org, actor=actor, reason=ScoreReason.RULES_CHANGED)
    return current


RULE_FIELDS = (
    "name",
    "kind",
    "points",
    "industry",
    "segment",
    "region",
    "employees_min",
    "employees_max",
    "title_keywords",
    "activity_kind",
    "url_contains",
    "half_life_days",
    "max_count",
)
# The parameters each kind reads; the others are cleared so a rule never carries stale ones.
KIND_FIELDS = {
    RuleKind.INDUSTRY: ("industry",),
    RuleKind.SEGMENT: ("segment",),
    RuleKind.REGION: ("region",),
    RuleKind.EMPLOYEES: ("employees_min", "employees_max"),
    RuleKind.SENIORITY: ("title_keywords",),
    RuleKind.ACTIVITY: ("activity_kind", "url_contains", "half_life_days", "max_count"),
}
_PARAMETER_DEFAULTS = {
    "industry": None,
    "segment": "",
    "region": "",
    "employees_min": None,
    "employees_max": None,
    "title_keywords": "",
    "activity_kind": "",
    "url_contains": "",
    "half_life_days": None,
    "max_count": 1,
}


def _rule_validate(*, org: Organization, rule: ScoringRule) -> None:
    for name, default in _PARAMETER_DEFAULTS.items():
        if name not in KIND_FIELDS.get(rule.kind, ()):
            setattr(rule, name, default)
    rule.full_clean(exclude=["organization", "position"])
    errors: dict[str, str] = {}
    if rule.points == 0:
        errors["points"] = "A rule worth 0 points changes nothing."
    if rule.kind == RuleKind.INDUSTRY:
        if rule.industry_id is None:
            errors["industry"] = "Choose the industry."
        elif rule.industry.organization_id != org.pk:
            errors["industry"] = "Unknown choice."
    elif rule.kind == RuleKind.SEGMENT and not rule.segment:
        errors["segment"] = "Choose the segment."
    elif rule.kind == RuleKind.REGION and not rule.region:
        errors["region"] = "Choose the region."
    elif rule.kind == RuleKind.EMPLOYEES:
        if rule.employees_min is None and rule.employees_max is None:
            errors["employees_min"] = "Give a minimum, a maximum or both."
        elif (
            rule.employees_min is not None
            and rule.employees_max is not None
            and rule.employees_min > rule.employees_max
        ):
            errors["employees_max"] = "Must be at least the minimum."
    elif rule.kind == RuleKind.SENIORITY and not seniority_keywords(rule.title_keywords):
        errors["title_keywords"] = "Give at least one keyword, e.g. VP, Director, Head, Chief."
    elif rule.kind == RuleKind.ACTIVITY and not rule.activity_kind:
        errors["activity_kind"] = "Choose the kind of activity."
    if errors:
        raise ValidationError(errors)


def _rules_changed(*, org: Organization, actor: User | None) -> None:
    rescore_run_start(org=org, actor=actor, reason=ScoreReason.RULES_CHANGED)


@transaction.atomic
def scoring_rule_create(
    *, org: Organization, actor: User | None, data: dict, rescore_all: bool = True
) -> ScoringRule:
    """Add a rule at the end of the model; raises ValidationError (field errors). Starts a rescoring
    of all leads unless the caller rescoring them itself (``rescore_all=False``: the demo seed)."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    last = ScoringRule.objects.filter(organization=org).aggregate(last=Max("position"))["last"]
    rule = ScoringRule(organization=org, position=(last or 0) + 1, **data)
    _rule_validate(org=org, rule=rule)
    rule.save()
    if rescore_all:
        _rules_changed(org=org, actor=actor)
    return rule


@transaction.atomic
def scoring_rule_update(*, org: Organization, actor: User | None, rule_id: int, data: dict) -> ScoringRule:
    """Change a rule; raises ScoringRule.DoesNotExist (→ 404) or ValidationError. Rescoring all leads."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    rule = ScoringRule.objects.select_for_update().get(organization=org, pk=rule_id)
    for name, value in data.items():
        setattr(rule, name, value)
    _rule_validate(org=org, rule=rule)
    rule.save()
    _rules_changed(org=org, actor=actor)
    return rule


@transaction.atomic
def scoring_rule_delete(*, org: Organization, actor: User | None, rule_id: int) -> None:
    """Remove a rule; raises ScoringRule.DoesNotExist (→ 404). Rescoring all leads."""
    ScoringRule.objects.select_for_update().get(organization=org, pk=rule_id).delete()
    _rules_changed(org=org, actor=actor)


@transaction.atomic
def scoring_rule_move(*, org: Organization, actor: User | None, rule_id: int, direction: str) -> None:
    """Swap a rule with its neighbour ("up" or "down"); the order is the order of the explanation.
    Order does not change points: no rescoring, the explanations are reordered on the next one."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Must be up or down."})
    rules = list(ScoringRule.objects.select_for_update().filter(organization=org).order_by("position", "pk"))
    index = next((i for i, rule in enumerate(rules) if rule.pk == rule_id), None)
    if index is None:
        raise ScoringRule.DoesNotExist("No such rule")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, rule in enumerate(rules, start=1):
        rule.position = position
    ScoringRule.objects.bulk_update(rules, ["position"])


# ---------------------------------------------------------------------------------------------
# Rescoring


@dataclass(frozen=True)
class RescoreResult:
    lead_id: int
    score: int
    previous_score: int
    changed: bool
    promoted: bool


def _rules_of(org: Organization) -> list[ScoringRule]:
    return list(
        ScoringRule.objects.filter(organization=org).select_related("industry").order_by("position", "pk")
    )


def leads_rescore(
    *,
    org: Organization,
    lead_ids: Sequence[int],
    reason: str,
    now: datetime | None = None,
    rules: list[ScoringRule] | None = None,
    settings: ScoringSettings | None = None,
) -> list[RescoreResult]:
    """Rescore a batch of leads in one transaction, with a fixed number of queries for the batch
    (rules, locked leads, their activities, their current explanations, then the writes) plus one
    stage move per promotion. Deleted or unknown ids are skipped."""
    if reason not in ScoreReason.values:
        raise ValueError(f"unknown score reason {reason!r}")
    now = now or timezone.now()
    with transaction.atomic():
        rules = _rules_of(org) if rules is None else rules
        settings = scoring_settings(org=org) if settings is None else settings
        leads = list(
            Lead.objects.select_for_update(of=("self",))
            .select_related("industry")
            .filter(organization=org, pk__in=list(lead_ids), deleted_at__isnull=True)
            .order_by("pk")
        )
        if not leads:
            return []
        ids = [lead.pk for lead in leads]
        activity_kinds = {rule.activity_kind for rule in rules if rule.kind == RuleKind.ACTIVITY}
        activities: dict[int, list[Activity]] = defaultdict(list)
        if activity_kinds:
            for activity in Activity.objects.filter(
                organization=org, lead_id__in=ids, kind__in=activity_kinds
            ).only("lead_id", "kind", "url", "occurred_at"):
                activities[activity.lead_id].append(activity)
        current = {
            record.lead_id: record for record in LeadScore.objects.filter(organization=org, lead_id__in=ids)
        }

        results: list[RescoreResult] = []
        records_to_save: list[LeadScore] = []
        history: list[ScoreChange] = []
        rescored: list[Lead] = []
        for lead in leads:
            explanation = score_compute(rules=rules, lead=lead, activities=activities[lead.pk], now=now)
            score, previous = explanation.score, lead.score
            record = current.get(lead.pk)
            lines = explanation.as_json()
            if record is None or record.explanation != lines or record.score != score:
                record = record or LeadScore(organization=org, lead=lead)
                record.score = score
                record.behaviour_points = explanation.behaviour_points
                record.explanation = lines
                record.computed_at = now
                records_to_save.append(record)
            if score != previous:
                lead.score = score
                rescored.append(lead)
                history.append(
                    ScoreChange(
                        organization=org,
                        lead=lead,
                        at=now,
                        score=score,
                        previous_score=previous,
                        reason=reason,
                    )
                )
            results.append(RescoreResult(lead.pk, score, previous, score != previous, False))

        if rescored:
            # The score is automation's, not a person's edit: no version bump, no updated_at.
            # One UPDATE … FROM unnest() (bulk_update's CASE per row costs more in Python than in SQL).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Lead._meta.db_table} AS l SET score = v.score "
                    "FROM unnest(%s::bigint[], %s::integer[]) AS v(id, score) "
                    "WHERE l.organization_id = %s AND l.id = v.id",
                    [
                        array_literal(lead.pk for lead in rescored),
                        array_literal(lead.score for lead in rescored),
                        org.pk,
                    ],
                )
            ScoreChange.objects.bulk_create(history, batch_size=CHUNK_SIZE)
        if records_to_save:
            LeadScore.objects.bulk_create(
                records_to_save,
                update_conflicts=True,
                unique_fields=["organization", "lead"],
                update_fields=["score", "behaviour_points", "explanation", "computed_at"],
                batch_size=CHUNK_SIZE,
            )

        if settings.auto_mql_enabled:
            by_id = {lead.pk: lead for lead in leads}
            for index, result in enumerate(results):
                if _promotable(by_id[result.lead_id], result.score, settings):
                    _promote(org=org, lead_id=result.lead_id, threshold=settings.mql_threshold)
                    results[index] = RescoreResult(
                        result.lead_id, result.score, result.previous_score, result.changed, True
                    )

        changed = [(r.lead_id, r.score, r.previous_score) for r in results if r.changed]
        if changed:
            transaction.on_commit(lambda: _send_scored(org.pk, changed))
    return results


def _promotable(lead: Lead, score: int, settings: ScoringSettings) -> bool:
    """Still at stage Lead and never an MQL before: a lead recycled back to Lead stays there."""
    return score >= settings.mql_threshold and lead.stage == Stage.LEAD and lead.reached_mql_at is None


def _promote(*, org: Organization, lead_id: int, threshold: int) -> None:
    # The lead row is locked by this transaction: a concurrent rescoring waits, then sees MQL.
    stage_move(
        org=org,
        actor=None,
        lead_id=lead_id,
        to_stage=Stage.MQL,
        reason=f"score ≥ {threshold}",
        expected_stage=Stage.LEAD,
        via=Via.SYSTEM,
    )


def _send_scored(organization_id: int, changed: list[tuple[int, int, int]]) -> None:
    for lead_id, score, previous in changed:
        signals.lead_scored.send(
            sender=LeadScore,
            organization_id=organization_id,
            lead_id=lead_id,
            score=score,
            previous_score=previous,
        )


def lead_rescore(
    *, org: Organization, lead_id: int, reason: str, now: datetime | None = None
) -> RescoreResult | None:
    """Rescore one lead (locks its row); None when the lead is deleted or unknown."""
    results = leads_rescore(org=org, lead_ids=[lead_id], reason=reason, now=now)
    return results[0] if results else None


def leads_rescore_all(*, org: Organization, reason: str, now: datetime | None = None) -> int:
    """Rescore every live lead now, chunk by chunk in the caller's process (seeds, operator
    commands; pages start a run instead). Returns how many scores changed."""
    now = now or timezone.now()
    rules, settings = _rules_of(org), scoring_settings(org=org)
    changed, after = 0, 0
    while True:
        ids = list(
            Lead.objects.filter(organization=org, deleted_at__isnull=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK_SIZE]
        )
        if not ids:
            return changed
        results = leads_rescore(org=org, lead_ids=ids, reason=reason, now=now, rules=rules, settings=settings)
        changed += sum(1 for result in results if result.changed)
        after = ids[-1]


# ---------------------------------------------------------------------------------------------
# Bulk runs: all leads after a rules change, behaviour leads every night


def _run_lead_ids(run: RescoreRun, *, after: int = 0, limit: int | None = None) -> list[int] | int:
    """The ids of the run's leads after ``after`` (keyset order), or their count when ``limit`` is None."""
    if run.scope == RescoreRun.Scope.BEHAVIOUR:
        ids = (
            LeadScore.objects.filter(organization_id=run.organization_id, lead__deleted_at__isnull=True)
            .exclude(behaviour_points=0)
            .values_list("lead_id", flat=True)
            .order_by("lead_id")
        )
        ids = ids.filter(lead_id__gt=after)
    else:
        ids = (
            Lead.objects.filter(organization_id=run.organization_id, deleted_at__isnull=True)
            .values_list("pk", flat=True)
            .order_by("pk")
        )
        ids = ids.filter(pk__gt=after)
    if limit is None:
        return ids.count()
    return list(ids[:limit])


@transaction.atomic
def rescore_run_start(
    *,
    org: Organization,
    actor: User | None,
    reason: str,
    scope: str = RescoreRun.Scope.ALL,
    now: datetime | None = None,
) -> RescoreRun:
    """Start a bulk rescoring: counts its leads, supersedes a running one of the same scope, and
    queues its first chunk after commit."""
    from .tasks import rescore_run_step_task

    now = now or timezone.now()
    RescoreRun.objects.filter(organization=org, scope=scope, status=RescoreRun.Status.RUNNING).update(
        status=RescoreRun.Status.SUPERSEDED, finished_at=now
    )
    run = RescoreRun(
        organization=org, scope=scope, reason=reason, requested_by=actor, as_of=now, started_at=now
    )
    run.total = _run_lead_ids(run)
    run.save()
    transaction.on_commit(lambda: rescore_run_step_task.delay(organization_id=org.pk, run_id=run.pk))
    return run


@transaction.atomic
def rescore_run_step(*, org: Organization, run_id: int, chunk_size: int = CHUNK_SIZE) -> RescoreRun:
    """Rescore the next chunk of a run and advance its progress; idempotent (a chunk that rolled
    back is redone, a finished or superseded run does nothing). Returns the run: the caller queues
    the next step while ``finished_at`` is empty."""
    run = RescoreRun.objects.select_for_update().get(organization=org, pk=run_id)
    if run.finished_at is not None:
        return run
    ids = _run_lead_ids(run, after=run.last_lead_id, limit=chunk_size)
    if ids:
        results = leads_rescore(org=org, lead_ids=ids, reason=run.reason, now=run.as_of)
        run.last_lead_id = ids[-1]
        run.done = F("done") + len(ids)
        run.changed = F("changed") + sum(1 for result in results if result.changed)
    if len(ids) < chunk_size:
        run.status = RescoreRun.Status.DONE
        run.finished_at = timezone.now()
    run.save()
    run.refresh_from_db()
    if run.finished_at is not None and run.done != run.total:
        # Leads created or deleted during the run: the count shown ends at what was done.
        RescoreRun.objects.filter(pk=run.pk).update(total=run.done)
        run.total = run.done
    return run


# ---------------------------------------------------------------------------------------------
# BANT


@transaction.atomic
def bant_update(
    *,
    org: Organization,
    actor: User | None,
    lead_id: int,
    budget: bool,
    authority: bool,
    need: bool,
    timeline: bool,
    via: str = Via.UI,
) -> BantChecklist:
    """Tick or untick the lead's BANT boxes and record who changed what in the lead's history.
    Raises Lead.DoesNotExist (→ 404). Who may do it is the caller's check (leads.qualify + edit)."""
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    checklist = BantChecklist.objects.filter(organization=org, lead=lead).first() or BantChecklist(
        organization=org, lead=lead
    )
    values = {"budget": budget, "authority": authority, "need": need, "timeline": timeline}
    changes = {
        f"BANT {name}": ["yes" if getattr(checklist, name) else "no", "yes" if value else "no"]
        for name, value in values.items()
        if getattr(checklist, name) != value
    }
    if not changes and checklist.pk:
        return checklist
    for name, value in values.items():
        setattr(checklist, name, value)
    checklist.meets_criteria = bant_meets(
        ticked=checklist.ticked, required=scoring_settings(org=org).bant_required
    )
    checklist.updated_at = timezone.now()
    checklist.updated_by = actor
    checklist.save()
    if changes:
        LeadChange.objects.create(organization=org, lead=lead, actor=actor, via=via, changes=changes)
    return checklist
