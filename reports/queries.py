"""The SQL behind every metric: set-based aggregation in PostgreSQL, one statement per question.

Every statement reads one organization's live leads (RLS limits it to the active
organization as well), groups by the requested period and dimensions, and
computes its measures with conditional aggregates. Periods are buckets of the
organization's local calendar: timestamps are converted with
``AT TIME ZONE <org zone>`` before ``date_trunc``, never left to the session zone.

Flow measures bucket each lead by the time of the event (created, reached MQL …,
closed); cohort measures bucket it by ``created_at`` and count how far the
cohort got by the as-of time. ``reached_*_at`` never move backwards and skipped
stages are set at the jump (funnel.services.stage_move), so a recycled lead
keeps counting as having reached its stages, and a skip counts as reached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django_countries import countries

from funnel.stages import Stage
from leads.models import ChannelType, Segment
from leads.regions import Region
from reports.models import Grain, MetricSnapshot

NO_VALUE_LABEL = "(none)"


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    lead_key: str  # SQL expression over the lead (alias l) and its joins
    lead_label: str | None  # SQL expression for a display name; None = from ``choices``
    joins: tuple[str, ...] = ()
    choices: dict[str, str] = field(default_factory=dict)
    spend_key: str | None = None  # spend is attributable to this dimension
    lead_filter: str = ""  # the LeadFilter parameter selecting one value ("" = none: no drill-down)
    none_filter: str | None = None  # LeadFilter value selecting "no value", if it has one


JOIN_CAMPAIGN = "LEFT JOIN leads_campaign c ON c.id = l.campaign_id"
JOIN_INDUSTRY = "LEFT JOIN leads_industry i ON i.id = l.industry_id"
JOIN_OWNER = "LEFT JOIN accounts_user u ON u.id = l.owner_id"
# A lead reaches a partner through a partner referral that carries it; a lead referred by several
# partners belongs to the first one's slice (each lead in exactly one slice).
JOIN_PARTNER = """LEFT JOIN (
    SELECT DISTINCT ON (r.lead_id) r.lead_id, r.partner_id
    FROM referrals_referral r
    WHERE r.lead_id IS NOT NULL AND r.partner_id IS NOT NULL
    ORDER BY r.lead_id, r.submitted_at, r.id
) AS lead_partner ON lead_partner.lead_id = l.id
LEFT JOIN referrals_partner partner ON partner.id = lead_partner.partner_id"""

DIMENSIONS: dict[str, Dimension] = {
    dimension.name: dimension
    for dimension in (
        Dimension(
            "source", "Source", "l.source_id", "s.name", spend_key="sp.source_id", lead_filter="source"
        ),
        Dimension(
            "channel_type",
            "Channel type",
            "s.channel_type",
            None,
            choices=dict(ChannelType.choices),
            spend_key="sp.channel",
            lead_filter="channel_type",
        ),
        Dimension(
            "campaign",
            "Campaign",
            "l.campaign_id",
            "c.name",
            joins=(JOIN_CAMPAIGN,),
            spend_key="sp.campaign_id",
            lead_filter="campaign",
        ),
        Dimension(
            "region",
            "Region",
            "nullif(l.region, '')",
            None,
            choices=dict(Region.choices),
            lead_filter="region",
        ),
        Dimension(
            "country",
            "Country",
            "nullif(l.country, '')",
            None,
            choices=dict(countries),
            lead_filter="country",
        ),
        Dimension(
            "industry", "Industry", "l.industry_id", "i.name", joins=(JOIN_INDUSTRY,), lead_filter="industry"
        ),
        Dimension(
            "segment",
            "Segment",
            "nullif(l.segment, '')",
            None,
            choices=dict(Segment.choices),
            lead_filter="segment",
        ),
        Dimension(
            "owner",
            "Owner",
            "l.owner_id",
            "coalesce(nullif(u.full_name, ''), u.email)",
            joins=(JOIN_OWNER,),
            lead_filter="owner",
            none_filter="null",
        ),
        Dimension(
            "partner",
            "Partner",
            "lead_partner.partner_id",
            "partner.name",
            joins=(JOIN_PARTNER,),
        ),
    )
}

# Lead filters that also narrow spend (spend carries a source, campaign and channel; nothing else).
SPEND_FILTERS = {"source": "sp.source_id", "campaign": "sp.campaign_id", "channel_type": "sp.channel"}

OPEN_STAGES_SQL = "('lead', 'mql', 'sql', 'opportunity')"
WON, LOST = Stage.WON.value, Stage.LOST.value

# The events of a lead's life, each with the time it happened (flow semantics).
EVENTS_LATERAL = f"""CROSS JOIN LATERAL (VALUES
    ('lead', l.created_at),
    ('mql', l.reached_mql_at),
    ('sql', l.reached_sql_at),
    ('opportunity', l.reached_opportunity_at),
    ('won', CASE WHEN l.stage = '{WON}' THEN l.closed_at END),
    ('lost', CASE WHEN l.stage = '{LOST}' THEN l.closed_at END)
) AS e(kind, at)"""

# Measures of the funnel family. ``%(as_of)s`` is the as-of time of cohort measures.
FUNNEL_MEASURES: dict[str, str] = {
    "leads": "count(*) FILTER (WHERE e.kind = 'lead')",
    "inbound_leads": "count(*) FILTER (WHERE e.kind = 'lead' AND s.is_inbound)",
    "mqls": "count(*) FILTER (WHERE e.kind = 'mql')",
    "sqls": "count(*) FILTER (WHERE e.kind = 'sql')",
    "opportunities": "count(*) FILTER (WHERE e.kind = 'opportunity')",
    "won": "count(*) FILTER (WHERE e.kind = 'won')",
    "lost": "count(*) FILTER (WHERE e.kind = 'lost')",
    "closed": "count(*) FILTER (WHERE e.kind IN ('won', 'lost'))",
    "cohort_mqls": "count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_mql_at < %(as_of)s)",
    "cohort_sqls": "count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_sql_at < %(as_of)s)",
    "cohort_opportunities": (
        "count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_opportunity_at < %(as_of)s)"
    ),
    "cohort_won": (
        f"count(*) FILTER (WHERE e.kind = 'lead' AND l.stage = '{WON}' AND l.closed_at < %(as_of)s)"
    ),
    "cohort_closed": (
        f"count(*) FILTER (WHERE e.kind = 'lead' AND l.stage IN ('{WON}', '{LOST}') "
        "AND l.closed_at < %(as_of)s)"
    ),
    "referral_leads": "count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral)",
    "referral_cohort_mqls": (
        "count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral AND l.reached_mql_at < %(as_of)s)"
    ),
    "referral_cohort_won": (
        f"count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral AND l.stage = '{WON}' "
        "AND l.closed_at < %(as_of)s)"
    ),
    # MQLs whose BANT checklist meets the organization's BANT rule (funnel.scoring keeps
    # meets_criteria in step with the rule); the checklist as it stands now.
    "mqls_bant": (
        "count(*) FILTER (WHERE e.kind = 'mql' AND EXISTS (SELECT 1 FROM scoring_bantchecklist q "
        "WHERE q.organization_id = l.organization_id AND q.lead_id = l.id AND q.meets_criteria))"
    ),
    "won_amount": "coalesce(sum(l.won_amount) FILTER (WHERE e.kind = 'won'), 0)",
    "won_value_12m": "coalesce(sum(l.value_12m) FILTER (WHERE e.kind = 'won'), 0)",
    "paid_won_amount": (
        "coalesce(sum(l.won_amount) FILTER "
        f"(WHERE e.kind = 'won' AND s.channel_type = '{ChannelType.PAID}'), 0)"
    ),
    "won_cycle_days_sum": (
        "coalesce(sum(extract(epoch FROM l.closed_at - l.created_at) / 86400.0) "
        "FILTER (WHERE e.kind = 'won'), 0)"
    ),
}

# When each snapshot measure counts a lead: the event's time for flow measures, the stage's time
# for cohort ones (a cohort measure counts the leads created in the period whose stage time is
# before the as-of time). A snapshot taken at T holds what counted before T; the same measure
# restricted to "counted at >= T" is what happened since (``event_measures(since=T)``), so the
# snapshot plus that delta is the live value. A measure missing here is never read from snapshots.
COUNTED_AT: dict[str, str] = {
    "leads": "e.at",
    "inbound_leads": "e.at",
    "mqls": "e.at",
    "sqls": "e.at",
    "opportunities": "e.at",
    "won": "e.at",
    "lost": "e.at",
    "closed": "e.at",
    "cohort_mqls": "l.reached_mql_at",
    "cohort_sqls": "l.reached_sql_at",
    "cohort_opportunities": "l.reached_opportunity_at",
    "cohort_won": "l.closed_at",
    "cohort_closed": "l.closed_at",
    "referral_leads": "e.at",
    "referral_cohort_mqls": "l.reached_mql_at",
    "referral_cohort_won": "l.closed_at",
}
# The latest time a lead counts at: its expression index (reports migration 0004,
# lead_org_last_event_idx) finds the leads with anything counted since a time.
LAST_EVENT_AT = (
    "greatest(l.created_at, l.reached_mql_at, l.reached_sql_at, l.reached_opportunity_at, l.closed_at)"
)


def measures_since(names: Sequence[str]) -> dict[str, str]:
    """The funnel measures ``names`` restricted to what counted at or after ``%(since)s``."""
    restricted = {}
    for name in names:
        expression = FUNNEL_MEASURES[name]
        if expression.count("FILTER (WHERE ") != 1:
            raise ValueError(f"measure {name} is not one filtered aggregate")
        restricted[name] = expression.replace(
            "FILTER (WHERE ", f"FILTER (WHERE {COUNTED_AT[name]} >= %(since)s AND "
        )
    return restricted


# Medians (hours or days) with their sample sizes; the speed family.
SPEED_MEASURES: dict[str, str] = {
    "first_contact_hours": (
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.first_contacted_at - l.created_at) "
        "/ 3600.0) FILTER (WHERE e.kind = 'lead' AND l.first_contacted_at < %(as_of)s)"
    ),
    "first_contact_n": "count(*) FILTER (WHERE e.kind = 'lead' AND l.first_contacted_at < %(as_of)s)",
    "first_contact_within_sla": (
        "count(*) FILTER (WHERE e.kind = 'lead' AND l.first_contacted_at < %(as_of)s "
        "AND l.first_contacted_at - l.created_at <= %(sla)s)"
    ),
    "first_contact_due": (
        "count(*) FILTER (WHERE e.kind = 'lead' AND (l.first_contacted_at < %(as_of)s "
        "OR l.created_at + %(sla)s <= %(as_of)s))"
    ),
    "first_meeting_hours": (
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.first_meeting_at - l.created_at) "
        "/ 3600.0) FILTER (WHERE e.kind = 'lead' AND l.first_meeting_at < %(as_of)s)"
    ),
    "first_meeting_n": "count(*) FILTER (WHERE e.kind = 'lead' AND l.first_meeting_at < %(as_of)s)",
    # First contact answered within 14 days: a reply, or a meeting/demo (first_meeting_at; a first
    # contact that is itself a meeting counts). Replies come from the activity log.
    "first_contact_engaged": (
        "count(*) FILTER (WHERE e.kind = 'lead' AND l.first_contacted_at < %(as_of)s AND ("
        "(l.first_meeting_at >= l.first_contacted_at AND l.first_meeting_at < %(as_of)s "
        "AND l.first_meeting_at < l.first_contacted_at + interval '14 days') "
        "OR EXISTS (SELECT 1 FROM leads_activity reply WHERE reply.organization_id = l.organization_id "
        "AND reply.lead_id = l.id AND reply.kind = 'email_replied' "
        "AND reply.occurred_at >= l.first_contacted_at AND reply.occurred_at < %(as_of)s "
        "AND reply.occurred_at < l.first_contacted_at + interval '14 days')))"
    ),
    "mql_to_opportunity_days": (
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.reached_opportunity_at - "
        "l.reached_mql_at) / 86400.0) FILTER (WHERE e.kind = 'opportunity' AND l.reached_mql_at IS NOT NULL)"
    ),
    "mql_to_opportunity_n": (
        "count(*) FILTER (WHERE e.kind = 'opportunity' AND l.reached_mql_at IS NOT NULL)"
    ),
    "sales_cycle_days": (
        "percentile_cont(0.5) WITHIN GROUP "
        "(ORDER BY extract(epoch FROM l.closed_at - l.created_at) / 86400.0) "
        "FILTER (WHERE e.kind = 'won')"
    ),
    "sales_cycle_n": "count(*) FILTER (WHERE e.kind = 'won')",
}


class Sql:
    """A statement assembled from fragments with named parameters (psycopg2 ``%(name)s`` style)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._counter = 0

    def param(self, value: Any) -> str:
        self._counter += 1
        name = f"p{self._counter}"
        self.params[name] = value
        return f"%({name})s"

    def embed(self, queryset: QuerySet) -> str:
        """A queryset's SQL as a subquery, its positional parameters renamed."""
        sql, params = queryset.query.sql_with_params()
        parts = sql.replace("%%", "\0").split("%s")
        out = parts[0]
        for value, part in zip(params, parts[1:], strict=True):
            out += self.param(value) + part
        return out.replace("\0", "%%")


def period_bucket(*, grain: str | None, column: str, tz_param: str, start_param: str) -> str:
    """The local period start of ``column`` (a timestamptz), as a date."""
    if grain is None:
        return f"{start_param}::date"
    local = f"({column} AT TIME ZONE {tz_param})"
    if grain == Grain.DAY:
        return f"{local}::date"
    return f"date_trunc('{Grain(grain).value}', {local})::date"


def date_bucket(*, grain: str | None, column: str, start_param: str) -> str:
    """The period start of ``column`` (a local date)."""
    if grain is None:
        return f"{start_param}::date"
    if grain == Grain.DAY:
        return column
    return f"date_trunc('{Grain(grain).value}', {column}::timestamp)::date"


@dataclass(frozen=True)
class Scope:
    """What every statement shares: the organization, the local range and the lead filters."""

    org_id: int
    time_zone: str
    start: datetime  # aware, local midnight of the first day
    end: datetime  # aware, exclusive
    start_date: date
    end_date: date  # exclusive
    as_of: datetime
    filtered_leads: QuerySet | None  # LeadFilter's queryset when any lead filter is set
    spend_filters: dict[str, Any]  # filters that narrow spend, by LeadFilter name
    spend_attributable: bool  # False when a filter cannot be applied to spend (e.g. region)


def _lead_where(sql: Sql, scope: Scope) -> str:
    where = f"l.organization_id = {sql.param(scope.org_id)} AND l.deleted_at IS NULL"
    if scope.filtered_leads is not None:
        where += f" AND l.id IN ({sql.embed(scope.filtered_leads.values('id'))})"
    return where


def _joins(dimensions: Sequence[Dimension]) -> str:
    joins: list[str] = ["LEFT JOIN leads_source s ON s.id = l.source_id"]
    for dimension in dimensions:
        joins += [join for join in dimension.joins if join not in joins]
    return "\n".join(joins)


def _select_dimensions(dimensions: Sequence[Dimension]) -> tuple[list[str], list[str]]:
    select, group = [], []
    for dimension in dimensions:
        select.append(f"{dimension.lead_key} AS dim_{dimension.name}")
        group.append(dimension.lead_key)
        if dimension.lead_label:
            select.append(f"min({dimension.lead_label}) AS label_{dimension.name}")
    return select, group


def _run(sql_text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Every dashboard reads the organization's stored totals; written out, as composing the ORM's
# SELECT cost more than PostgreSQL's answer (metric_snapshot_slice_unique serves it).
SNAPSHOT_TOTALS_SQL = f"""SELECT period_start, measures, computed_at FROM {MetricSnapshot._meta.db_table}
WHERE organization_id = %(org)s AND grain = %(grain)s AND dimension = '' AND dimension_value = ''
    AND period_start >= %(first)s AND period_start <= %(last)s"""


def snapshot_totals(*, org_id: int, grain: str, first: date, last: date) -> list[tuple[date, dict, datetime]]:
    """(period_start, measures, computed_at) of the organization's total rows from ``first`` to ``last``."""
    with connection.cursor() as cursor:
        cursor.execute(SNAPSHOT_TOTALS_SQL, {"org": org_id, "grain": grain, "first": first, "last": last})
        return [
            (start, stored if isinstance(stored, dict) else json.loads(stored), computed_at)
            for start, stored, computed_at in cursor.fetchall()
        ]


def event_measures(
    *,
    scope: Scope,
    grain: str | None,
    dimensions: Sequence[Dimension],
    measures: dict[str, str],
    extra_params: dict[str, Any] | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per (period, dimension values) with ``measures`` (FUNNEL_MEASURES or SPEED_MEASURES).

    ``since``: only leads with something counted at or after it (``measures_since``'s measures).
    """
    sql = Sql()
    tz, start, end = sql.param(scope.time_zone), sql.param(scope.start), sql.param(scope.end)
    start_date = sql.param(scope.start_date)
    sql.params.update({"as_of": scope.as_of, **(extra_params or {})})
    recent = ""
    if since is not None:
        sql.params["since"] = since
        recent = f"\n    AND {LAST_EVENT_AT} >= %(since)s"
    bucket = period_bucket(grain=grain, column="e.at", tz_param=tz, start_param=start_date)
    dim_select, dim_group = _select_dimensions(dimensions)
    select = [
        f"{bucket} AS period_start",
        *dim_select,
        *(f"{expr} AS {name}" for name, expr in measures.items()),
    ]
    text = f"""SELECT {", ".join(select)}
FROM leads_lead l
{_joins(dimensions)}
{EVENTS_LATERAL}
WHERE {_lead_where(sql, scope)} AND e.at >= {start} AND e.at < {end}
    -- Every event happens at or after creation, and a lead with an event in the range has its
    -- latest timestamp in or after it: both let PostgreSQL skip leads before expanding events.
    AND l.created_at < {end}
    AND {LAST_EVENT_AT} >= {start}{recent}
GROUP BY {", ".join(["1", *dim_group])}"""
    return _run(text, sql.params)


def spend_measures(
    *, scope: Scope, grain: str | None, dimensions: Sequence[Dimension]
) -> list[dict[str, Any]]:
    """Spend per (period, dimension values): campaign costs dated at their start date, plus spend entries.

    Only dimensions spend can carry (source, campaign, channel type) may be asked for.
    """
    sql = Sql()
    org = sql.param(scope.org_id)
    start_date, end_date = sql.param(scope.start_date), sql.param(scope.end_date)
    bucket = date_bucket(grain=grain, column="sp.spent_on", start_param=start_date)
    select = [f"{bucket} AS period_start"]
    group = ["1"]
    for dimension in dimensions:
        select.append(f"{dimension.spend_key} AS dim_{dimension.name}")
        group.append(dimension.spend_key)
    where = [f"sp.spent_on >= {start_date}", f"sp.spent_on < {end_date}"]
    for name, value in scope.spend_filters.items():
        where.append(f"{SPEND_FILTERS[name]} = {sql.param(value)}")
    text = f"""SELECT {", ".join(select)},
    sum(sp.amount) AS spend,
    coalesce(sum(sp.amount) FILTER (WHERE sp.channel = '{ChannelType.PAID}'), 0) AS paid_spend
FROM (
    SELECT c.start_date AS spent_on, c.cost AS amount, c.id AS campaign_id, c.source_id,
           c.channel_type AS channel
    FROM leads_campaign c
    WHERE c.organization_id = {org} AND c.start_date IS NOT NULL AND c.cost > 0
    UNION ALL
    SELECT x.spent_on, x.amount, x.campaign_id, coalesce(x.source_id, xc.source_id),
           coalesce(nullif(x.channel_type, ''), xs.channel_type, xc.channel_type, '{ChannelType.OTHER}')
    FROM leads_spendentry x
    LEFT JOIN leads_campaign xc ON xc.id = x.campaign_id
    LEFT JOIN leads_source xs ON xs.id = coalesce(x.source_id, xc.source_id)
    WHERE x.organization_id = {org}
) sp
WHERE {" AND ".join(where)}
GROUP BY {", ".join(group)}"""
    return _run(text, sql.params)


def pipeline_measures(
    *,
    scope: Scope,
    points: Sequence[tuple[date, datetime]],
    dimensions: Sequence[Dimension],
    probabilities: dict[str, float],
) -> list[dict[str, Any]]:
    """Open pipeline as of each point (key, aware time): each lead's stage then, from its transitions.

    Amounts are today's expected amounts (their history is not kept).
    """
    sql = Sql()
    values = ", ".join(f"({sql.param(key)}::date, {sql.param(at)}::timestamptz)" for key, at in points)
    weight = (
        "CASE last.to_stage "
        + " ".join(
            f"WHEN {sql.param(stage)} THEN {sql.param(probability)}::float8"
            for stage, probability in probabilities.items()
        )
        + " ELSE 0 END"
    )
    dim_select, dim_group = _select_dimensions(dimensions)
    select = ["p.point AS period_start", *dim_select]
    text = f"""SELECT {", ".join(select)},
    count(*) FILTER (WHERE last.to_stage = 'opportunity') AS open_opportunities,
    coalesce(sum(l.expected_amount) FILTER (WHERE last.to_stage = 'opportunity'), 0) AS pipeline_value,
    coalesce(sum(l.expected_amount * {weight}), 0) AS weighted_pipeline
FROM (VALUES {values}) AS p(point, at)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (t.lead_id) t.lead_id, t.to_stage
    FROM funnel_stagetransition t
    WHERE t.organization_id = {sql.param(scope.org_id)} AND t.at < p.at
    ORDER BY t.lead_id, t.at DESC, t.id DESC
) AS last
JOIN leads_lead l ON l.id = last.lead_id
{_joins(dimensions)}
WHERE {_lead_where(sql, scope)} AND last.to_stage IN {OPEN_STAGES_SQL}
GROUP BY {", ".join(["1", *dim_group])}"""
    return _run(text, sql.params)
