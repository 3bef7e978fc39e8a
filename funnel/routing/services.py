"""Writes of routing and the first-contact SLA.

Routing: a new lead without an owner goes through the organization's ordered rules; the first
rule whose conditions all hold acts (a person, or the next eligible rep of a team in round
robin). Every channel calls in here: ``leads.services.lead_create`` (UI, API, referrals,
per-row imports) calls ``lead_route_new`` before validation and ``lead_routing_record`` after
saving; the set-based import calls ``leads_route_batch`` before its COPY and
``lead_routing_record_batch`` after its INSERT.

Score conditions: a new lead's score is 0 until the scoring task runs. When
``leads.signals.lead_scored`` reports a higher score, ``lead_route_after_scoring`` routes the
lead if it is still unassigned, uncontacted and within its first-contact SLA window. A lead
that a later rule already assigned is not taken back: put score rules first and keep a
catch-all rule last, knowing that a catch-all wins over a score rule the score reaches later.

SLA: each new lead gets a deadline in working minutes (``SlaPolicy``); ``sla_process`` (beat,
every few minutes per organization) reminds the owner once at the deadline and, when the
policy says so, reassigns the lead through the rules (excluding the owner) after the second
period. Both are idempotent and safe when two runs overlap (SKIP LOCKED, conditional writes,
one notification per lead, kind and recipient).
"""

from __future__ import annotations

import collections
import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from funnel.routing import sla
from funnel.routing.models import (
    LeadRouting,
    Notification,
    NotificationKind,
    RoutingOutcome,
    RoutingRule,
    RoutingTeam,
    RuleAction,
    SlaPolicy,
    TeamMember,
)
from funnel.stages import OPEN_STAGES
from leads import rules as lead_rules
from leads.models import Lead, Via
from leadtrack import caching
from leadtrack.accounts.models import User
from leadtrack.pgarrays import array_literal
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import INTERNAL

logger = logging.getLogger(__name__)


# --- Matching ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    """What rules look at, from a Lead or from the column values of a lead about to be inserted."""

    country: str
    region: str
    industry_id: int | None
    segment: str
    source_id: int | None
    score: int

    @classmethod
    def of_lead(cls, lead: Lead) -> LeadFacts:
        return cls(
            country=str(lead.country or ""),
            region=lead.region or "",
            industry_id=lead.industry_id,
            segment=lead.segment or "",
            source_id=lead.source_id,
            score=lead.score or 0,
        )

    @classmethod
    def of_values(cls, values: Mapping[str, Any]) -> LeadFacts:
        return cls(
            country=str(values.get("country") or ""),
            region=values.get("region") or "",
            industry_id=values.get("industry_id"),
            segment=values.get("segment") or "",
            source_id=values.get("source_id"),
            score=values.get("score") or 0,
        )


def rule_matches(rule: RoutingRule, facts: LeadFacts) -> bool:
    """Every condition the rule sets holds for the lead (an empty condition holds for all)."""
    return (
        (not rule.countries or facts.country in rule.countries)
        and (not rule.regions or facts.region in rule.regions)
        and (not rule.segments or facts.segment in rule.segments)
        and (not rule.industry_ids or facts.industry_id in rule.industry_ids)
        and (not rule.source_ids or facts.source_id in rule.source_ids)
        and (rule.min_score is None or facts.score >= rule.min_score)
    )


@dataclass(frozen=True)
class RoutingDecision:
    outcome: str
    owner_id: int | None = None
    rule: RoutingRule | None = None
    team_name: str = ""


OWNER_GIVEN = RoutingDecision(outcome=RoutingOutcome.OWNER_GIVEN)
NOT_ROUTED = RoutingDecision(outcome=RoutingOutcome.NOT_ROUTED)


@dataclass(frozen=True)
class RoutingConfig:
    """An organization's active rules (in order) and SLA policy, cached: creating a lead in an
    organization without rules costs no statement for routing."""

    rules: list[RoutingRule]
    policy: SlaPolicy


CONFIG_TTL_SECONDS = 300


def _config_cache_key(organization_id: int) -> str:
    return f"routing:config:{organization_id}"


def routing_config(*, org: Organization) -> RoutingConfig:

    def read() -> RoutingConfig:
        rules = list(RoutingRule.objects.filter(organization=org, is_active=True).order_by("position", "id"))
        policy = SlaPolicy.objects.filter(organization=org).first() or SlaPolicy(organization=org)
        return RoutingConfig(rules=rules, policy=policy)

    return caching.read_through(_config_cache_key(org.pk), CONFIG_TTL_SECONDS, read)


def routing_config_forget(*, org: Organization) -> None:
    """After a change of rules, teams or policy: forget now and again once it commits (a reader
    in between may have cached the old rows)."""
    caching.forget(_config_cache_key(org.pk))


class Router:
    """The rules of one organization and the round-robin state of its teams, for one transaction.

    The first time a team is needed, every team of an active rule is locked (SELECT … FOR UPDATE,
    in id order, so two routers never wait on each other in a cycle): concurrent routers take
    turns one after the other and see each other's assignments, which keeps round robin fair.
    A member's open leads are read the first time their capacity decides a turn, counted up to
    that capacity (a count at it is full, whatever lies beyond), and the router's own assignments
    are added in memory, so a batch routes in memory. ``finish()`` writes the moved pointers.
    A batch is routed before any of its leads is saved (the import); a caller that saves each
    lead before routing the next calls ``saved()`` in between (SLA reassignment).
    """

    def __init__(self, *, org: Organization, rules: Sequence[RoutingRule] | None = None):
        self.org = org
        self.rules = list(routing_config(org=org).rules if rules is None else rules)
        self._teams: dict[int, RoutingTeam] | None = None
        self._members: dict[int, list[TeamMember]] = {}
        self._open_in_database: dict[int, int] = {}
        self._assigned: collections.Counter[int] = collections.Counter()
        self._internal: set[int] = set()
        self._moved: set[int] = set()

    def route(self, facts: LeadFacts, *, exclude_user_ids: Iterable[int] = ()) -> RoutingDecision:
        rule = next((rule for rule in self.rules if rule_matches(rule, facts)), None)
        if rule is None:
            return RoutingDecision(outcome=RoutingOutcome.NO_RULE)
        excluded = set(exclude_user_ids)
        if rule.action == RuleAction.USER:
            self._load_teams()
            owner_id = rule.assign_to_id
            if owner_id in excluded or owner_id not in self._internal:
                return RoutingDecision(outcome=RoutingOutcome.NOBODY_AVAILABLE, rule=rule)
            self._assigned[owner_id] += 1
            return RoutingDecision(outcome=RoutingOutcome.ROUTED, owner_id=owner_id, rule=rule)
        teams = self._load_teams()
        team = teams[rule.team_id]
        member = self._next_member(team, excluded)
        if member is None:
            return RoutingDecision(outcome=RoutingOutcome.NOBODY_AVAILABLE, rule=rule, team_name=team.name)
        return RoutingDecision(
            outcome=RoutingOutcome.ROUTED, owner_id=member.user_id, rule=rule, team_name=team.name
        )

    def _load_teams(self) -> dict[int, RoutingTeam]:
        if self._teams is not None:
            return self._teams
        team_ids = sorted({rule.team_id for rule in self.rules if rule.team_id is not None})
        self._teams = {
            team.pk: team
            for team in RoutingTeam.objects.select_for_update()
            .filter(organization=self.org, pk__in=team_ids)
            .order_by("pk")
        }
        for member in TeamMember.objects.filter(organization=self.org, team_id__in=team_ids).order_by("pk"):
            self._members.setdefault(member.team_id, []).append(member)
        user_ids = {m.user_id for members in self._members.values() for m in members}
        user_ids |= {rule.assign_to_id for rule in self.rules if rule.assign_to_id is not None}
        self._internal = set(
            Membership.objects.filter(
                organization=self.org, user_id__in=user_ids, role__in=INTERNAL
            ).values_list("user_id", flat=True)
        )
        return self._teams

    def saved(self) -> None:
        """The leads routed so far are in the database now: open leads are counted again when next
        needed. A count read before the save would miss a lead moved away from its owner, and this
        router's own tally would count a saved one a second time."""
        self._open_in_database.clear()
        self._assigned.clear()

    def _is_full(self, member: TeamMember) -> bool:
        """True when the member holds ``max_open_leads`` open leads, this router's assignments included.

        Counted once per member and only up to the capacity: counting every open lead of every
        member on each new lead cost a create 3.7 ms at 1,200 open leads, and grew with them.
        """
        capacity = member.max_open_leads
        if capacity is None:
            return False
        if member.user_id not in self._open_in_database:
            self._open_in_database[member.user_id] = (
                Lead.objects.filter(
                    organization=self.org,
                    owner_id=member.user_id,
                    deleted_at__isnull=True,
                    stage__in=OPEN_STAGES,
                )
                .values("pk")[:capacity]
                .count()
            )
        return self._open_in_database[member.user_id] + self._assigned[member.user_id] >= capacity

    def _next_member(self, team: RoutingTeam, excluded: set[int]) -> TeamMember | None:
        members = self._members.get(team.pk, [])
        if not members:
            return None
        # Start after the member who took the last turn (by join order); a removed one still orders.
        last = team.last_member_id or 0
        start = next((i for i, member in enumerate(members) if member.pk > last), 0)
        for offset in range(len(members)):
            member = members[(start + offset) % len(members)]
            if member.is_absent or member.user_id in excluded or member.user_id not in self._internal:
                continue
            if self._is_full(member):
                continue
            self._assigned[member.user_id] += 1
            team.last_member_id = member.pk
            self._moved.add(team.pk)
            return member
        return None

    def finish(self) -> None:
        for team_id in sorted(self._moved):
            RoutingTeam.objects.filter(organization=self.org, pk=team_id).update(
                last_member_id=self._teams[team_id].last_member_id
            )
        self._moved.clear()


def lead_route_new(*, org: Organization, lead: Lead, owner_given: bool) -> RoutingDecision | None:
    """Give a new, unsaved lead an owner by the rules, unless the caller gave one.

    Called by ``leads.services.lead_create`` before validation (which checks the owner is a
    member). Sets ``lead.owner_id`` when a rule finds someone; otherwise the lead stays unassigned.
    None when the organization has no active rule (nothing to record now; see LeadRouting).
    """
    router = Router(org=org)
    if not router.rules:
        return None
    if owner_given:
        return OWNER_GIVEN
    if any(rule.regions or rule.segments for rule in router.rules):
        lead_rules.apply_derived_fields(org=org, lead=lead)  # region and segment, as rules see them
    decision = router.route(LeadFacts.of_lead(lead))
    router.finish()
    if decision.owner_id is not None:
        lead.owner_id = decision.owner_id
    return decision


def leads_route_batch(*, org: Organization, rows: Sequence[dict[str, Any]]) -> list[RoutingDecision]:
    """Route column values of leads about to be inserted (the set-based import), rules loaded once.

    Rows with an ``owner_id`` keep it; the others get one by the rules (``owner_id`` set in place).
    One decision per row, in order.
    """
    router = Router(org=org)
    if not router.rules:
        return [NOT_ROUTED] * len(rows)
    decisions = []
    for values in rows:
        if values.get("owner_id") is not None:
            decisions.append(OWNER_GIVEN)
            continue
        decision = router.route(LeadFacts.of_values(values))
        if decision.owner_id is not None:
            values["owner_id"] = decision.owner_id
        decisions.append(decision)
    router.finish()
    return decisions


# --- The routing record and the SLA deadline -----------------------------------------------------------


def sla_policy_get(*, org: Organization) -> SlaPolicy:
    """The organization's SLA policy; the defaults (unsaved) until an admin changes them."""
    return routing_config(org=org).policy


def sla_deadline(
    *, org: Organization, policy: SlaPolicy, start: datetime.datetime, minutes: int
) -> datetime.datetime:
    return sla.add_working_minutes(
        start=start,
        minutes=minutes,
        tz=org.tzinfo,
        workday_start=policy.workday_start,
        workday_end=policy.workday_end,
        working_days=policy.working_days,
    )


# A lead recorded longer than this after its creation date (an import of history) gets no SLA.
SLA_LOOKBACK = datetime.timedelta(days=1)


def _deadlines(
    *, org: Organization, policy: SlaPolicy, created_at: datetime.datetime, now: datetime.datetime
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(first-contact deadline, reassignment time) of a lead created at ``created_at``."""
    if created_at < now - SLA_LOOKBACK:
        return None, None
    due = sla_deadline(org=org, policy=policy, start=created_at, minutes=policy.first_contact_minutes)
    return due, sla_deadline(org=org, policy=policy, start=due, minutes=policy.reassign_after_minutes)


def _record(
    *,
    org: Organization,
    policy: SlaPolicy,
    lead_id: int,
    created_at: datetime.datetime,
    decision: RoutingDecision,
    now: datetime.datetime,
) -> LeadRouting:
    due, reassign = _deadlines(org=org, policy=policy, created_at=created_at, now=now)
    return LeadRouting(
        organization=org,
        lead_id=lead_id,
        outcome=decision.outcome,
        rule_id=decision.rule.pk if decision.rule else None,
        rule_name=decision.rule.name if decision.rule else "",
        team_name=decision.team_name,
        routed_at=now,
        sla_due_at=due,
        reassign_at=reassign,
    )


def lead_routing_record(
    *, org: Organization, lead: Lead, decision: RoutingDecision | None, now: datetime.datetime | None = None
) -> LeadRouting | None:
    """Write how a just-saved lead was routed and its first-contact deadline (counted from its
    creation, in working minutes). Nothing when ``decision`` is None (no rules: see LeadRouting)."""
    if decision is None:
        return None
    record = _record(
        org=org,
        policy=sla_policy_get(org=org),
        lead_id=lead.pk,
        created_at=lead.created_at,
        decision=decision,
        now=now or timezone.now(),
    )
    record.save()
    return record


def lead_routing_preview(*, org: Organization, lead: Lead, now: datetime.datetime) -> LeadRouting:
    """The record the SLA task will write for a lead created without rules (unsaved)."""
    return _record(
        org=org,
        policy=sla_policy_get(org=org),
        lead_id=lead.pk,
        created_at=lead.created_at,
        decision=NOT_ROUTED,
        now=now,
    )


_INSERT_RECORDS = (
    f"INSERT INTO {LeadRouting._meta.db_table} (organization_id, routed_at, note, lead_id, outcome, rule_id, "
    "rule_name, team_name, sla_due_at, reassign_at) "
    "SELECT %s, %s, '', r.* FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[], "
    "%s::timestamptz[], %s::timestamptz[]) AS r "
    "ON CONFLICT DO NOTHING"
)


def lead_routing_record_batch(
    *,
    org: Organization,
    leads: Mapping[int, tuple[datetime.datetime, RoutingDecision]],
    now: datetime.datetime | None = None,
) -> None:
    """``lead_routing_record`` for many inserted leads ({lead id: (created_at, decision)}), one statement.

    An import's leads share a few creation times, so each time's deadlines are worked out once;
    the rows go in as arrays (an import writes tens of thousands: built as models and written by
    bulk_create they cost a third of its time).
    """
    if not leads:
        return
    policy = sla_policy_get(org=org)
    now = now or timezone.now()
    deadlines: dict[datetime.datetime, tuple[datetime.datetime | None, datetime.datetime | None]] = {}
    columns: list[list[Any]] = [[] for _ in range(7)]
    for lead_id, (created_at, decision) in leads.items():
        if created_at not in deadlines:
            deadlines[created_at] = _deadlines(org=org, policy=policy, created_at=created_at, now=now)
        due, reassign = deadlines[created_at]
        rule = decision.rule
        outcome = str(decision.outcome)
        row = (
            lead_id,
            outcome,
            rule.pk if rule else None,
            rule.name if rule else "",
            decision.team_name,
            due,
            reassign,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_RECORDS, [org.pk, now, *map(array_literal, columns)])


def lead_routing_backfill(*, org: Organization, now: datetime.datetime | None = None) -> int:
    """Records (outcome "not routed", with their SLA deadline) for leads created within the lookback
    that have none: leads created while the organization had no active rule. Returns how many."""
    now = now or timezone.now()
    missing = (
        Lead.objects.filter(organization=org, created_at__gte=now - SLA_LOOKBACK, deleted_at__isnull=True)
        .exclude(pk__in=LeadRouting.objects.filter(organization=org).values("lead_id"))
        .values_list("pk", "created_at")
    )
    leads = {pk: (created_at, NOT_ROUTED) for pk, created_at in missing}
    lead_routing_record_batch(org=org, leads=leads, now=now)
    return len(leads)


@transaction.atomic
def lead_route_after_scoring(
    *, org: Organization, lead_id: int, now: datetime.datetime | None = None
) -> bool:
    """Route a lead that a new score may now send somewhere. True when it got an owner.

    Only a lead still unassigned, open, uncontacted and before its first-contact deadline is
    routed (an older unassigned lead is a person's decision by now); a rule that matches but
    finds nobody leaves it as it is.
    """
    from leads.services import lead_update

    now = now or timezone.now()
    record = (
        LeadRouting.objects.select_for_update()
        .filter(
            organization=org,
            lead_id=lead_id,
            lead__owner__isnull=True,
            lead__deleted_at__isnull=True,
            lead__first_contacted_at__isnull=True,
            lead__stage__in=OPEN_STAGES,
            sla_due_at__gt=now,
        )
        .select_related("lead")
        .first()
    )
    if record is None:
        return False
    router = Router(org=org)
    decision = router.route(LeadFacts.of_lead(record.lead))
    router.finish()
    if decision.owner_id is None:
        return False
    owner = User.objects.get(pk=decision.owner_id)
    lead_update(org=org, actor=None, lead_id=lead_id, data={"owner": owner}, via=Via.SYSTEM)
    record.outcome = decision.outcome
    record.rule_id = decision.rule.pk
    record.rule_name = decision.rule.name
    record.team_name = decision.team_name
    record.routed_at = now
    record.note = f"Routed after scoring (score {record.lead.score})."
    record.save(update_fields=["outcome", "rule", "rule_name", "team_name", "routed_at", "note"])
    return True


# --- SLA: reminders and reassignment ---------------------------------------------------------------------


def _notify(*, org: Organization, recipient_id: int, kind: str, lead: Lead, message: str) -> None:
    """One in-app notification and one e-mail, once per (kind, lead, recipient); the e-mail leaves
    after the transaction commits, so a rolled-back run sends nothing."""
    _, created = Notification.objects.get_or_create(
        organization=org, recipient_id=recipient_id, kind=kind, lead=lead, defaults={"message": message}
    )
    email = User.objects.filter(pk=recipient_id).values_list("email", flat=True).first()
    if not created or not email:
        return
    link = settings.SITE_URL.rstrip("/") + reverse(
        "lead_detail", kwargs={"org_slug": org.slug, "lead_id": lead.pk}
    )
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[{org.name}] {message}",
            message=f"{message}\n\n{link}",
            from_email=None,
            recipient_list=[email],
        )
    )


def _open_uncontacted(queryset):
    return queryset.filter(
        lead__deleted_at__isnull=True, lead__first_contacted_at__isnull=True, lead__stage__in=OPEN_STAGES
    )


@dataclass(frozen=True)
class SlaRun:
    reminded: int
    reassigned: int
    kept: int


@transaction.atomic
def sla_process(*, org: Organization, now: datetime.datetime | None = None) -> SlaRun:
    """Remind owners whose leads reached the deadline uncontacted, then reassign those past the
    second period when the policy says so. Rows another run holds are skipped (SKIP LOCKED)."""
    now = now or timezone.now()
    lead_routing_backfill(org=org, now=now)
    reminded = 0
    due = _open_uncontacted(
        LeadRouting.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            organization=org, reminded_at__isnull=True, sla_due_at__lte=now, lead__owner__isnull=False
        )
    ).select_related("lead")
    for record in due:
        _notify(
            org=org,
            recipient_id=record.lead.owner_id,
            kind=NotificationKind.SLA_REMINDER,
            lead=record.lead,
            message=f"First contact due: {record.lead} has not been contacted yet.",
        )
        record.reminded_at = now
        record.save(update_fields=["reminded_at"])
        reminded += 1

    policy = sla_policy_get(org=org)
    reassigned = kept = 0
    if policy.reassign_when_missed:
        late = (
            _open_uncontacted(
                LeadRouting.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                    organization=org,
                    reassigned_at__isnull=True,
                    reassign_at__lte=now,
                    lead__owner__isnull=False,
                )
            )
            .select_related("lead", "lead__owner")
            .order_by("reassign_at", "pk")
        )
        router: Router | None = None
        for record in late:
            router = router or Router(org=org)
            if _reassign(org=org, policy=policy, record=record, router=router, now=now):
                reassigned += 1
            else:
                kept += 1
            router.saved()  # each reassignment is saved before the next lead is routed
        if router is not None:
            router.finish()
    return SlaRun(reminded=reminded, reassigned=reassigned, kept=kept)


def _reassign(
    *, org: Organization, policy: SlaPolicy, record: LeadRouting, router: Router, now: datetime.datetime
) -> bool:
    from leads.services import lead_update

    lead = record.lead
    previous = lead.owner
    decision = router.route(LeadFacts.of_lead(lead), exclude_user_ids={previous.pk})
    record.reassigned_at = now
    if decision.owner_id is None:
        record.note = f"First contact missed; no other rep available, stays with {_name(previous)}."
        record.save(update_fields=["reassigned_at", "note"])
        return False
    new_owner = User.objects.get(pk=decision.owner_id)
    lead = lead_update(org=org, actor=None, lead_id=lead.pk, data={"owner": new_owner}, via=Via.SYSTEM)
    record.outcome = decision.outcome
    record.rule_id = decision.rule.pk
    record.rule_name = decision.rule.name
    record.team_name = decision.team_name
    record.routed_at = now
    # The new owner gets a fresh first-contact period (and its reminder); no second reassignment.
    record.sla_due_at = sla_deadline(org=org, policy=policy, start=now, minutes=policy.first_contact_minutes)
    record.reminded_at = None
    record.note = f"First contact missed by {_name(previous)}; reassigned to {_name(new_owner)}."
    record.save()
    _notify(
        org=org,
        recipient_id=new_owner.pk,
        kind=NotificationKind.SLA_REASSIGNED,
        lead=lead,
        message=f"{lead} was reassigned to you: first contact was missed.",
    )
    return True


def _name(user: User | None) -> str:
    return (user.full_name or user.email) if user else "nobody"


# --- Notifications ---------------------------------------------------------------------------------------


def notifications_mark_read(
    *, org: Organization, user: User, notification_ids: Sequence[int] | None = None
) -> int:
    """Mark the user's notifications read (all when no ids are given); others' are untouched."""
    unread = Notification.objects.filter(organization=org, recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())


# --- Administration: rules, teams, policy ------------------------------------------------------------------


def _check_targets(*, org: Organization, rule: RoutingRule) -> None:
    errors = {}
    if rule.action == RuleAction.USER:
        rule.team = None
        if rule.assign_to_id is None:
            errors["assign_to"] = "Choose the person."
        elif not Membership.objects.filter(
            organization=org, user_id=rule.assign_to_id, role__in=INTERNAL
        ).exists():
            errors["assign_to"] = "Must be a member of this organization."
    elif rule.action == RuleAction.TEAM:
        rule.assign_to = None
        if rule.team_id is None:
            errors["team"] = "Choose the team."
        elif rule.team.organization_id != org.pk:
            errors["team"] = "Unknown choice."
    else:
        errors["action"] = "Unknown action."
    if errors:
        raise ValidationError(errors)


RULE_FIELDS = (
    "name",
    "is_active",
    "countries",
    "regions",
    "segments",
    "industry_ids",
    "source_ids",
    "min_score",
    "action",
    "assign_to",
    "team",
)


@transaction.atomic
def routing_rule_save(
    *, org: Organization, data: Mapping[str, Any], rule_id: int | None = None
) -> RoutingRule:
    """Create (last in order) or change a rule. Raises ValidationError (field errors) or
    RoutingRule.DoesNotExist (another organization's rule → 404)."""
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    if rule_id is None:
        last = RoutingRule.objects.filter(organization=org).aggregate(last=Max("position"))["last"]
        rule = RoutingRule(organization=org, position=0 if last is None else last + 1)
    else:
        rule = RoutingRule.objects.select_for_update().get(organization=org, pk=rule_id)
    for field, value in data.items():
        setattr(rule, field, value)
    rule.full_clean(exclude=["organization", "position", "assign_to", "team"], validate_constraints=False)
    _check_targets(org=org, rule=rule)
    rule.save()
    routing_config_forget(org=org)
    return rule


@transaction.atomic
def routing_rule_delete(*, org: Organization, rule_id: int) -> None:
    RoutingRule.objects.get(organization=org, pk=rule_id).delete()
    routing_config_forget(org=org)


@transaction.atomic
def routing_rule_move(*, org: Organization, rule_id: int, direction: str) -> None:
    """Swap a rule with its neighbour ("up" = earlier, acts first). Positions are renumbered 0…n-1."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Choose up or down."})
    rules = list(RoutingRule.objects.select_for_update().filter(organization=org).order_by("position", "id"))
    index = next((i for i, rule in enumerate(rules) if rule.pk == rule_id), None)
    if index is None:
        raise RoutingRule.DoesNotExist("No such rule")
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    for position, rule in enumerate(rules):
        if rule.position != position:
            RoutingRule.objects.filter(organization=org, pk=rule.pk).update(position=position)
    routing_config_forget(org=org)


@transaction.atomic
def routing_team_save(*, org: Organization, name: str, team_id: int | None = None) -> RoutingTeam:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "This field is required."})
    clash = RoutingTeam.objects.filter(organization=org, name__iexact=name)
    if team_id is not None:
        team = RoutingTeam.objects.get(organization=org, pk=team_id)
        clash = clash.exclude(pk=team_id)
    else:
        team = RoutingTeam(organization=org)
    if clash.exists():
        raise ValidationError({"name": "A team with this name exists."})
    team.name = name
    team.full_clean(exclude=["organization", "last_member"])
    team.save()
    return team


@transaction.atomic
def routing_team_delete(*, org: Organization, team_id: int) -> None:
    """Delete a team that no rule uses (ValidationError otherwise)."""
    team = RoutingTeam.objects.get(organization=org, pk=team_id)
    used = list(RoutingRule.objects.filter(organization=org, team=team).values_list("name", flat=True))
    if used:
        raise ValidationError({"team": f"Used by the rule(s): {', '.join(used)}. Change them first."})
    team.delete()


@transaction.atomic
def team_member_add(
    *, org: Organization, team_id: int, user_id: int, max_open_leads: int | None = None
) -> TeamMember:
    team = RoutingTeam.objects.get(organization=org, pk=team_id)
    if not Membership.objects.filter(organization=org, user_id=user_id, role__in=INTERNAL).exists():
        raise ValidationError({"user": "Must be a member of this organization."})
    if TeamMember.objects.filter(organization=org, team=team, user_id=user_id).exists():
        raise ValidationError({"user": "Already in this team."})
    member = TeamMember(organization=org, team=team, user_id=user_id, max_open_leads=max_open_leads)
    member.full_clean(exclude=["organization", "team", "user"], validate_constraints=False)
    member.save()
    return member


@transaction.atomic
def team_member_update(
    *, org: Organization, member_id: int, max_open_leads: int | None, is_absent: bool
) -> TeamMember:
    member = TeamMember.objects.select_for_update().get(organization=org, pk=member_id)
    member.max_open_leads = max_open_leads
    member.is_absent = is_absent
    member.full_clean(exclude=["organization", "team", "user"], validate_constraints=False)
    member.save(update_fields=["max_open_leads", "is_absent"])
    return member


@transaction.atomic
def team_member_remove(*, org: Organization, member_id: int) -> None:
    TeamMember.objects.get(organization=org, pk=member_id).delete()


@transaction.atomic
def sla_policy_update(*, org: Organization, data: Mapping[str, Any]) -> SlaPolicy:
    """Change the SLA policy; ValidationError (field errors) on bad values. Deadlines already
    given to leads stay as they were set."""
    allowed = {
        "first_contact_minutes",
        "workday_start",
        "workday_end",
        "working_days",
        "warning_minutes",
        "reassign_when_missed",
        "reassign_after_minutes",
    }
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    SlaPolicy.objects.get_or_create(organization=org)
    policy = SlaPolicy.objects.select_for_update().get(organization=org)
    for field, value in data.items():
        setattr(policy, field, value)
    policy.full_clean(exclude=["organization"], validate_constraints=False)
    errors = {}
    if policy.workday_end <= policy.workday_start:
        errors["workday_end"] = "Must be after the start of the working day."
    if not policy.working_days or any(day not in range(7) for day in policy.working_days):
        errors["working_days"] = "Choose at least one working day."
    if errors:
        raise ValidationError(errors)
    policy.working_days = sorted(set(policy.working_days))
    policy.save()
    routing_config_forget(org=org)
    return policy
