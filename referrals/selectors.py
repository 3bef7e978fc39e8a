"""Reads of the referral program: the portal's narrow views and the manager's figures.

The portal reads go through explicit field allowlists (``PORTAL_*_FIELDS``): a partner's
page or JSON can only ever carry those keys. Metrics are set-based SQL (docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from funnel.stages import Stage
from leads.models import REFERRAL_CHANNELS, Campaign, ChannelType, Lead, SpendEntry
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role
from referrals.models import (
    Partner,
    PartnerUser,
    Program,
    Referral,
    ReferralEvent,
    ReferralLink,
    ReferralStatus,
    RewardLedgerEntry,
    RewardStatus,
)

# The only referral fields a partner ever sees: output key → ORM path. Never the owner,
# the lead's notes or score, the conflict details, other partners or internal activities.
PORTAL_REFERRAL_FIELDS: dict[str, str] = {
    "id": "pk",
    "company": "company",
    "contact_name": "contact_name",
    "email": "email",
    "program": "program__name",
    "status": "status",
    "submitted_at": "submitted_at",
    "status_changed_at": "status_changed_at",
    "expires_at": "expires_at",
    "rejection_reason": "rejection_reason",
}
PORTAL_REWARD_FIELDS: dict[str, str] = {
    "id": "pk",
    "referral_id": "referral_id",
    "company": "referral__company",
    "program": "program__name",
    "amount": "amount",
    "currency": "currency",
    "status": "status",
    "created_at": "created_at",
    "approved_at": "approved_at",
    "paid_at": "paid_at",
}
PORTAL_EVENT_FIELDS: dict[str, str] = {"status": "status", "at": "at"}


# --- portal ---------------------------------------------------------------------------------


def portal_partner_for(*, org: Organization, user: User) -> Partner | None:
    """The partner a partner-role user acts for, or None when not linked yet."""
    link = PartnerUser.objects.filter(organization=org, user=user).select_related("partner").first()
    return link.partner if link else None


def _allowlisted(queryset: QuerySet, fields: dict[str, str]) -> list[dict[str, Any]]:
    rows = queryset.values(*fields.values())
    return [{key: row[path] for key, path in fields.items()} for row in rows]


def portal_referral_list(*, org: Organization, partner: Partner) -> list[dict[str, Any]]:
    """The partner's own referrals, newest first, with the allowlisted fields only."""
    queryset = Referral.objects.filter(organization=org, partner=partner).order_by("-submitted_at", "-pk")
    return _allowlisted(queryset, PORTAL_REFERRAL_FIELDS)


def portal_referral_get(*, org: Organization, partner: Partner, referral_id: int) -> dict[str, Any]:
    """One of the partner's referrals with its status dates. Another partner's id, or another
    organization's, raises Referral.DoesNotExist (→ 404): the same answer as a missing one."""
    queryset = Referral.objects.filter(organization=org, partner=partner, pk=referral_id)
    rows = _allowlisted(queryset, PORTAL_REFERRAL_FIELDS)
    if not rows:
        raise Referral.DoesNotExist
    events = ReferralEvent.objects.filter(organization=org, referral_id=referral_id).order_by("at", "pk")
    return {**rows[0], "events": _allowlisted(events, PORTAL_EVENT_FIELDS)}


def portal_reward_list(*, org: Organization, partner: Partner) -> list[dict[str, Any]]:
    queryset = RewardLedgerEntry.objects.filter(organization=org, partner=partner).order_by(
        "-created_at", "-pk"
    )
    return _allowlisted(queryset, PORTAL_REWARD_FIELDS)


def portal_reward_get(*, org: Organization, partner: Partner, reward_id: int) -> dict[str, Any]:
    """Raises RewardLedgerEntry.DoesNotExist (→ 404) for anything not the partner's."""
    queryset = RewardLedgerEntry.objects.filter(organization=org, partner=partner, pk=reward_id)
    rows = _allowlisted(queryset, PORTAL_REWARD_FIELDS)
    if not rows:
        raise RewardLedgerEntry.DoesNotExist
    return rows[0]


def reward_totals(*, org: Organization, partner: Partner | None = None) -> dict[str, int]:
    """Sum of rewards per status (and overall), in minor units."""
    queryset = RewardLedgerEntry.objects.filter(organization=org)
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    sums = queryset.aggregate(
        **{
            status: Coalesce(Sum("amount", filter=Q(status=status)), Value(0))
            for status in RewardStatus.values
        },
        total=Coalesce(Sum("amount"), Value(0)),
    )
    return sums


def portal_programs(*, org: Organization, partner: Partner) -> QuerySet[Program]:
    """Active partner programs this partner is eligible for (certification, minimum tier)."""
    queryset = Program.objects.filter(organization=org, kind="partner", active=True)
    if not partner.certified:
        queryset = queryset.filter(requires_certification=False)
    rank = partner.tier.rank if partner.tier_id else -1
    return queryset.filter(Q(min_tier__isnull=True) | Q(min_tier__rank__lte=rank)).order_by("name")


# --- manager --------------------------------------------------------------------------------


def review_queue(*, org: Organization) -> QuerySet[Referral]:
    return (
        Referral.objects.filter(
            organization=org, status__in=(ReferralStatus.UNDER_REVIEW, ReferralStatus.SUBMITTED)
        )
        .select_related("program", "partner", "referring_customer", "referring_employee", "conflict_lead")
        .select_related("conflict_referral__partner", "lead")
        .order_by("submitted_at", "pk")
    )


def referral_list(*, org: Organization, status: str = "") -> QuerySet[Referral]:
    queryset = Referral.objects.filter(organization=org).select_related(
        "program", "partner", "referring_customer", "referring_employee", "lead"
    )
    if status in ReferralStatus.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-submitted_at", "-pk")


def referral_get(*, org: Organization, referral_id: int) -> Referral:
    """Raises Referral.DoesNotExist (→ 404) for another organization's id."""
    return (
        Referral.objects.select_related(
            "program", "partner", "referring_customer", "referring_employee", "lead", "conflict_lead"
        )
        .select_related("conflict_referral__partner")
        .get(organization=org, pk=referral_id)
    )


def reward_list(*, org: Organization, status: str = "") -> QuerySet[RewardLedgerEntry]:
    queryset = RewardLedgerEntry.objects.filter(organization=org).select_related(
        "referral", "partner", "program"
    )
    if status in RewardStatus.values:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-pk")


def partner_get(*, org: Organization, partner_id: int) -> Partner:
    """Raises Partner.DoesNotExist (→ 404) for another organization's id."""
    return Partner.objects.select_related("tier").get(organization=org, pk=partner_id)


def unlinked_partner_members(*, org: Organization) -> QuerySet[Membership]:
    """Members with the partner role who do not act for a partner yet."""
    linked = PartnerUser.objects.filter(organization=org).values("user_id")
    return (
        Membership.objects.filter(organization=org, role=Role.PARTNER)
        .exclude(user_id__in=linked)
        .select_related("user")
        .order_by("user__email")
    )


def links_of(*, org: Organization, partner: Partner | None = None) -> QuerySet[ReferralLink]:
    queryset = ReferralLink.objects.filter(organization=org).select_related("program", "partner", "customer")
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset.order_by("-created_at")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    def bounds(self, org: Organization) -> tuple[datetime, datetime]:
        tz = org.tzinfo
        return datetime.combine(self.start, time.min, tz), datetime.combine(self.end, time.min, tz)


def default_period(*, today: date) -> Period:
    """The quarter to date (docs/metrics.md: half-open in the tenant's time zone)."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return Period(start=start, end=today + timedelta(days=1))


def _rate(numerator: int, denominator: int) -> float | None:
    """A rate whose denominator is 0 is None ("—"), never 0%."""
    return numerator / denominator if denominator else None


def partner_performance(*, org: Organization, period: Period) -> list[Partner]:
    """Partners with referrals, cohort MQL % and SQL %, won, revenue and rewards in the period.

    Cohort = referrals submitted in the period (their leads); MQL % = reached MQL / leads,
    SQL % = reached SQL / reached MQL (docs/metrics.md); revenue = won amount. One query.
    """
    start, end = period.bounds(org)
    in_period = Q(referrals__submitted_at__gte=start, referrals__submitted_at__lt=end)
    with_lead = in_period & Q(referrals__lead__isnull=False, referrals__lead__deleted_at__isnull=True)
    rewards = (
        RewardLedgerEntry.objects.filter(
            organization=org, partner=OuterRef("pk"), created_at__gte=start, created_at__lt=end
        )
        .values("partner")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    partners = list(
        Partner.objects.filter(organization=org)
        .select_related("tier")
        .annotate(
            referral_count=Count("referrals", filter=in_period),
            lead_count=Count("referrals__lead", filter=with_lead),
            mql_count=Count(
                "referrals__lead", filter=with_lead & Q(referrals__lead__reached_mql_at__isnull=False)
            ),
            sql_count=Count(
                "referrals__lead", filter=with_lead & Q(referrals__lead__reached_sql_at__isnull=False)
            ),
            won_count=Count("referrals__lead", filter=with_lead & Q(referrals__lead__stage=Stage.WON)),
            revenue=Coalesce(
                Sum("referrals__lead__won_amount", filter=with_lead & Q(referrals__lead__stage=Stage.WON)),
                Value(0),
            ),
            reward_total=Coalesce(Subquery(rewards), Value(0)),
        )
        .order_by("name")
    )
    for partner in partners:
        partner.mql_rate = _rate(partner.mql_count, partner.lead_count)
        partner.sql_rate = _rate(partner.sql_count, partner.mql_count)
    return partners


def leaderboard(*, org: Organization, period: Period, limit: int = 10) -> list[Partner]:
    """Partners ranked by closed-won revenue, then wins, then referrals, in the period."""
    ranked = sorted(
        partner_performance(org=org, period=period),
        key=lambda p: (-p.revenue, -p.won_count, -p.referral_count, p.name),
    )
    return [p for p in ranked if p.referral_count][:limit]


@dataclass(frozen=True)
class ChannelCost:
    spend: int
    won: int

    @property
    def cac(self) -> float | None:
        return self.spend / self.won if self.won else None


def partner_channel_cac(*, org: Organization, period: Period) -> ChannelCost:
    """CAC of the partner channel (docs/metrics.md: spend / won over the period).

    Spend = costs of partner-referral campaigns starting in the period + spend entries of the
    channel (by their channel, their source's or their campaign's) dated in the period.
    Won = leads from a partner-referral source closed won in the period.
    """
    start, end = period.bounds(org)
    channel = ChannelType.PARTNER_REFERRAL
    campaign_cost = Campaign.objects.filter(
        organization=org, channel_type=channel, start_date__gte=period.start, start_date__lt=period.end
    ).aggregate(total=Coalesce(Sum("cost"), Value(0)))["total"]
    spend = SpendEntry.objects.filter(
        Q(channel_type=channel) | Q(source__channel_type=channel) | Q(campaign__channel_type=channel),
        organization=org,
        spent_on__gte=period.start,
        spent_on__lt=period.end,
    ).aggregate(total=Coalesce(Sum("amount"), Value(0)))["total"]
    won = Lead.objects.filter(
        organization=org,
        deleted_at__isnull=True,
        source__channel_type=channel,
        stage=Stage.WON,
        closed_at__gte=start,
        closed_at__lt=end,
    ).count()
    return ChannelCost(spend=campaign_cost + spend, won=won)


@dataclass(frozen=True)
class ReferralMetrics:
    leads: int
    mqls: int
    won: int
    customer_referral_leads: int
    active_customers: int
    customer_referral_won: int
    customer_referral_cohort: int
    viral_cycle_days: float | None
    viral_cycle_n: int

    @property
    def conversion_rate(self) -> float | None:
        return _rate(self.won, self.leads)

    @property
    def mql_rate(self) -> float | None:
        return _rate(self.mqls, self.leads)

    @property
    def customer_conversion_rate(self) -> float | None:
        return _rate(self.customer_referral_won, self.customer_referral_cohort)

    @property
    def virality(self) -> float | None:
        """K = customer-referred leads in P / active customers at the start of P, times their conversion."""
        invites = _rate(self.customer_referral_leads, self.active_customers)
        if invites is None or self.customer_conversion_rate is None:
            return None
        return invites * self.customer_conversion_rate


_REFERRAL_METRICS_SQL = """
WITH cohort AS (
    SELECT l.id, l.reached_mql_at, l.stage, s.channel_type
    FROM leads_lead l JOIN leads_source s ON s.id = l.source_id AND s.organization_id = l.organization_id
    WHERE l.organization_id = %(org)s AND l.deleted_at IS NULL AND s.channel_type = ANY(%(channels)s)
      AND l.created_at >= %(start)s AND l.created_at < %(end)s
),
customers AS (
    SELECT count(*) AS n FROM leads_lead
    WHERE organization_id = %(org)s AND deleted_at IS NULL AND stage = 'won' AND closed_at < %(start)s
),
first_referrals AS (
    SELECT r.referring_customer_id, min(r.submitted_at) AS first_at
    FROM referrals_referral r
    WHERE r.organization_id = %(org)s AND r.referrer_kind = 'customer'
    GROUP BY r.referring_customer_id
),
cycles AS (
    SELECT extract(epoch FROM f.first_at - c.closed_at) / 86400.0 AS days
    FROM first_referrals f JOIN leads_lead c ON c.id = f.referring_customer_id AND c.organization_id = %(org)s
    WHERE c.closed_at IS NOT NULL AND f.first_at >= c.closed_at
      AND f.first_at >= %(start)s AND f.first_at < %(end)s
)
SELECT
    (SELECT count(*) FROM cohort),
    (SELECT count(*) FROM cohort WHERE reached_mql_at IS NOT NULL),
    (SELECT count(*) FROM cohort WHERE stage = 'won'),
    (SELECT count(*) FROM cohort WHERE channel_type = 'customer_referral'),
    (SELECT n FROM customers),
    (SELECT count(*) FROM cohort WHERE channel_type = 'customer_referral' AND stage = 'won'),
    (SELECT count(*) FROM cohort WHERE channel_type = 'customer_referral'),
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FROM cycles),
    (SELECT count(*) FROM cycles)
"""


def referral_metrics(*, org: Organization, period: Period) -> ReferralMetrics:
    """Referral conversion rate, referral-generated MQL rate, virality K and viral cycle time.

    Cohort of leads created in the period whose source is a referral channel
    (docs/metrics.md). One statement; row-level security keeps it in the tenant.
    """
    start, end = period.bounds(org)
    params = {
        "org": org.pk,
        "start": start,
        "end": end,
        "channels": sorted(str(c) for c in REFERRAL_CHANNELS),
    }
    with connection.cursor() as cursor:
        cursor.execute(_REFERRAL_METRICS_SQL, params)
        row = cursor.fetchone()
    leads, mqls, won, customer_leads, customers, customer_won, customer_cohort, cycle, cycle_n = row
    return ReferralMetrics(
        leads=leads,
        mqls=mqls,
        won=won,
        customer_referral_leads=customer_leads,
        active_customers=customers,
        customer_referral_won=customer_won,
        customer_referral_cohort=customer_cohort,
        viral_cycle_days=float(cycle) if cycle is not None else None,
        viral_cycle_n=cycle_n,
    )


def program_performance(*, org: Organization, period: Period) -> QuerySet[Program]:
    """Per program, like a campaign: referrals, leads, won, revenue and rewards in the period."""
    start, end = period.bounds(org)
    in_period = Q(referrals__submitted_at__gte=start, referrals__submitted_at__lt=end)
    rewards = (
        RewardLedgerEntry.objects.filter(
            organization=org, program=OuterRef("pk"), created_at__gte=start, created_at__lt=end
        )
        .values("program")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Program.objects.filter(organization=org)
        .annotate(
            referral_count=Count("referrals", filter=in_period),
            lead_count=Count("referrals__lead", filter=in_period),
            won_count=Count("referrals__lead", filter=in_period & Q(referrals__lead__stage=Stage.WON)),
            revenue=Coalesce(
                Sum("referrals__lead__won_amount", filter=in_period & Q(referrals__lead__stage=Stage.WON)),
                Value(0),
            ),
            reward_total=Coalesce(Subquery(rewards), Value(0)),
        )
        .order_by("name")
    )
