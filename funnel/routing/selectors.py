"""Reads of routing and the first-contact SLA."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_countries import countries

from funnel.routing import services
from funnel.routing.models import LeadRouting, Notification, RoutingRule, RoutingTeam, SlaPolicy, TeamMember
from funnel.stages import OPEN_STAGES
from leads.models import Industry, Lead, Segment, Source
from leads.regions import Region
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import role_can
from reports.metrics import REGISTRY, Metric
from reports.periods import CUSTOM
from reports.selectors import MetricTable, metric_table

FIRST_CONTACT_METRICS = ("time_to_first_contact", "first_contact_within_sla")


def routing_rules(*, org: Organization) -> list[tuple[RoutingRule, list[str]]]:
    """The rules in the order they are tried, each with its conditions in words."""
    rules = list(
        RoutingRule.objects.filter(organization=org)
        .select_related("assign_to", "team")
        .order_by("position", "id")
    )
    industries = dict(Industry.objects.filter(organization=org).values_list("pk", "name"))
    sources = dict(Source.objects.filter(organization=org).values_list("pk", "name"))
    return [(rule, rule_conditions(rule, industries=industries, sources=sources)) for rule in rules]


def rule_conditions(rule: RoutingRule, *, industries: dict[int, str], sources: dict[int, str]) -> list[str]:
    conditions = []
    if rule.countries:
        conditions.append("Country: " + ", ".join(countries.name(code) or code for code in rule.countries))
    if rule.regions:
        conditions.append(
            "Region: " + ", ".join(str(Region(r).label) for r in rule.regions if r in Region.values)
        )
    if rule.industry_ids:
        conditions.append("Industry: " + ", ".join(industries.get(i, "(deleted)") for i in rule.industry_ids))
    if rule.segments:
        conditions.append(
            "Segment: " + ", ".join(str(Segment(s).label) for s in rule.segments if s in Segment.values)
        )
    if rule.source_ids:
        conditions.append("Source: " + ", ".join(sources.get(i, "(deleted)") for i in rule.source_ids))
    if rule.min_score is not None:
        conditions.append(f"Score ≥ {rule.min_score}")
    return conditions or ["Every lead"]


def routing_rule_get(*, org: Organization, rule_id: int) -> RoutingRule:
    """Raises RoutingRule.DoesNotExist (→ 404) for another organization's rule."""
    return RoutingRule.objects.get(organization=org, pk=rule_id)


def routing_teams(*, org: Organization) -> QuerySet[RoutingTeam]:
    return (
        RoutingTeam.objects.filter(organization=org).annotate(member_count=Count("members")).order_by("name")
    )


def routing_team_get(*, org: Organization, team_id: int) -> RoutingTeam:
    """Raises RoutingTeam.DoesNotExist (→ 404) for another organization's team."""
    return RoutingTeam.objects.get(organization=org, pk=team_id)


@dataclass(frozen=True)
class MemberRow:
    member: TeamMember
    open_leads: int

    @property
    def at_capacity(self) -> bool:
        return self.member.max_open_leads is not None and self.open_leads >= self.member.max_open_leads


def team_members(*, org: Organization, team: RoutingTeam) -> list[MemberRow]:
    """The team's reps in turn order, with their open leads (not closed, not deleted)."""
    members = list(
        TeamMember.objects.filter(organization=org, team=team).select_related("user").order_by("pk")
    )
    counts = dict(
        Lead.objects.filter(
            organization=org,
            owner_id__in=[m.user_id for m in members],
            deleted_at__isnull=True,
            stage__in=OPEN_STAGES,
        )
        .values_list("owner_id")
        .annotate(n=Count("id"))
    )
    return [MemberRow(member, counts.get(member.user_id, 0)) for member in members]


def team_member_get(*, org: Organization, team: RoutingTeam, member_id: int) -> TeamMember:
    return TeamMember.objects.get(organization=org, team=team, pk=member_id)


def routing_member_choices(*, org: Organization) -> QuerySet[User]:
    """Internal members of the organization (partners never own leads)."""
    from leadtrack.tenancy.roles import INTERNAL

    return User.objects.filter(memberships__organization=org, memberships__role__in=INTERNAL).order_by(
        "full_name", "email"
    )


# --- SLA ---------------------------------------------------------------------------------------------


def _open_uncontacted(queryset: QuerySet[LeadRouting]) -> QuerySet[LeadRouting]:
    return queryset.filter(
        lead__deleted_at__isnull=True, lead__first_contacted_at__isnull=True, lead__stage__in=OPEN_STAGES
    )


def sla_queue(
    *, org: Organization, membership: Membership, now: datetime.datetime | None = None
) -> QuerySet[LeadRouting]:
    """Open, uncontacted leads past their first-contact deadline or within the policy's warning
    minutes of it, soonest first. Reps see their own leads; managers and admins see all."""
    now = now or timezone.now()
    policy = services.sla_policy_get(org=org)
    queue = _open_uncontacted(
        LeadRouting.objects.filter(
            organization=org, sla_due_at__lte=now + datetime.timedelta(minutes=policy.warning_minutes)
        )
    )
    if not role_can(membership.role, "leads.view_all"):
        queue = queue.filter(lead__owner_id=membership.user_id)
    return queue.select_related("lead", "lead__owner").order_by("sla_due_at", "pk")


@dataclass(frozen=True)
class LeadSla:
    """What the lead page says about routing and the first-contact SLA."""

    record: LeadRouting | None
    status: str  # "contacted", "contacted_late", "breached", "due_soon", "on_track", "closed", ""
    minutes_left: int | None


def lead_sla(*, org: Organization, lead: Lead, now: datetime.datetime | None = None) -> LeadSla:
    """The lead's routing record and SLA status. A lead created in an organization without rules
    gets its record from the SLA task a few minutes later: until then the deadline is computed here."""
    now = now or timezone.now()
    record = LeadRouting.objects.filter(organization=org, lead=lead).first()
    if record is None:
        if lead.created_at < now - services.SLA_LOOKBACK:
            return LeadSla(None, "", None)
        record = services.lead_routing_preview(org=org, lead=lead, now=now)
    if record.sla_due_at is None:
        return LeadSla(record, "", None)
    if lead.first_contacted_at is not None:
        late = lead.first_contacted_at > record.sla_due_at
        return LeadSla(record, "contacted_late" if late else "contacted", None)
    if not lead.is_open:
        return LeadSla(record, "closed", None)
    minutes_left = int((record.sla_due_at - now).total_seconds() // 60)
    if minutes_left < 0:
        return LeadSla(record, "breached", minutes_left)
    policy: SlaPolicy = services.sla_policy_get(org=org)
    return LeadSla(record, "due_soon" if minutes_left <= policy.warning_minutes else "on_track", minutes_left)


def first_contact_by_rep(
    *, org: Organization, membership: Membership, date_from: datetime.date, date_to: datetime.date
) -> MetricTable:
    """Time to first contact and % within SLA per owner, as the metric registry defines them
    (reports/metrics.py); reps see their own row."""
    filters = {} if role_can(membership.role, "leads.view_all") else {"owner": str(membership.user_id)}
    return metric_table(
        org=org,
        metrics=FIRST_CONTACT_METRICS,
        period=CUSTOM,
        group_by=["owner"],
        date_from=date_from,
        date_to=date_to,
        filters=filters,
    )


def first_contact_metrics() -> list[Metric]:
    return [REGISTRY[name] for name in FIRST_CONTACT_METRICS]


# --- Notifications -------------------------------------------------------------------------------------


def notifications_for(*, org: Organization, user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(organization=org, recipient=user)
        .select_related("lead")
        .order_by("-created_at", "-pk")
    )


# Every page's navigation shows the count: written out, since composing the ORM's COUNT cost
# twenty times what PostgreSQL spends on it (notification_org_recipient_idx answers it).
UNREAD_COUNT_SQL = (
    f"SELECT count(*) FROM {Notification._meta.db_table} "
    "WHERE organization_id = %s AND recipient_id = %s AND read_at IS NULL"
)


def notifications_unread_count(*, org: Organization, user: User) -> int:
    with connection.cursor() as cursor:
        cursor.execute(UNREAD_COUNT_SQL, [org.pk, user.pk])
        return cursor.fetchone()[0]
