"""SQL shared by the harness, the reference views and the recompute fan-out."""

from __future__ import annotations

from leads.api.columns import LEAD_VALUES

SUMMARY_TABLE = "bench_funnel_monthly"
# The fields of one lead in a list response, for the references and the bare WSGI floor: the
# API's own, so that the references read and write what the product does.
LIST_FIELDS = LEAD_VALUES
# The 15 fields the list references returned until 2026-11-26 (docs/performance.md's synthetic
# lead had 15 columns; the product's has 34). Still measured, as information.
FORMER_LIST_FIELDS = (
    "id",
    "company",
    "contact_name",
    "email",
    "phone",
    "stage",
    "source_id",
    "owner_id",
    "country",
    "region",
    "segment",
    "expected_amount",
    "currency",
    "created_at",
    "updated_at",
)

# The precomputed row set the reference dashboard reads: one row per
# organization × month × source × stage. Same RLS policy as the product's tables.
SUMMARY_DDL = f"""
CREATE TABLE IF NOT EXISTS {SUMMARY_TABLE} (
    organization_id bigint NOT NULL,
    month date NOT NULL,
    source_id bigint,
    stage varchar(20) NOT NULL,
    leads integer NOT NULL,
    reached_mql integer NOT NULL,
    reached_sql integer NOT NULL,
    reached_opportunity integer NOT NULL,
    won integer NOT NULL,
    won_amount bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS {SUMMARY_TABLE}_org_month ON {SUMMARY_TABLE} (organization_id, month);
ALTER TABLE {SUMMARY_TABLE} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {SUMMARY_TABLE} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {SUMMARY_TABLE};
CREATE POLICY tenant_isolation ON {SUMMARY_TABLE}
    USING (organization_id = nullif(current_setting('app.organization_id', true), '')::bigint)
    WITH CHECK (organization_id = nullif(current_setting('app.organization_id', true), '')::bigint);
"""

_AGGREGATE = """
SELECT organization_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month, source_id, stage,
       count(*), count(reached_mql_at), count(reached_sql_at), count(reached_opportunity_at),
       count(*) FILTER (WHERE stage = 'won'), coalesce(sum(won_amount), 0)
FROM leads_lead
WHERE deleted_at IS NULL {tenant_filter}
GROUP BY 1, 2, 3, 4
"""

# The nightly reference: one INSERT … SELECT … GROUP BY over every tenant (needs a role that bypasses RLS).
RECOMPUTE_ALL = f"INSERT INTO {{target}} {_AGGREGATE.format(tenant_filter='')}"
# The per-tenant recompute (what a fan-out task does), run inside the tenant's context.
RECOMPUTE_ONE = [
    f"DELETE FROM {SUMMARY_TABLE} WHERE organization_id = %(org)s",
    f"INSERT INTO {SUMMARY_TABLE} {_AGGREGATE.format(tenant_filter='AND organization_id = %(org)s')}",
]

# --- The recompute's reference: the same rows as the metrics engine's snapshot, in one raw statement.
# Every lead event (created, reached MQL / SQL / opportunity, closed won / lost) bucketed in the
# organization's local month and ISO week; grouped by month for the total and each of the nine
# dimensions, and by week for the total; the sixteen snapshot counts as columns. The engine writes
# the same groups (one row each) with the counts in a jsonb column (reports.services).
SNAPSHOT_REFERENCE_DDL = """
CREATE TEMP TABLE {target} (
    organization_id bigint, grain text, period_start date, dimension text, dimension_value text,
    leads bigint, inbound_leads bigint, mqls bigint, sqls bigint, opportunities bigint, won bigint,
    lost bigint, closed bigint, cohort_mqls bigint, cohort_sqls bigint, cohort_opportunities bigint,
    cohort_won bigint, cohort_closed bigint, referral_leads bigint, referral_cohort_mqls bigint,
    referral_cohort_won bigint
)"""
_SNAPSHOT_DIMENSIONS = {
    "source": "l.source_id",
    "channel_type": "s.channel_type",
    "campaign": "l.campaign_id",
    "region": "nullif(l.region, '')",
    "country": "nullif(l.country, '')",
    "industry": "l.industry_id",
    "segment": "nullif(l.segment, '')",
    "owner": "l.owner_id",
    "partner": "lp.partner_id",
}


def _snapshot_reference(*, all_organizations: bool) -> str:
    org = "l.organization_id, " if all_organizations else ""
    sets = [f"({org}m)", f"({org}w)", *(f"({org}m, {key})" for key in _SNAPSHOT_DIMENSIONS.values())]
    dimension = " ".join(
        f"WHEN grouping({key}) = 0 THEN '{name}'" for name, key in _SNAPSHOT_DIMENSIONS.items()
    )
    value = " ".join(f"WHEN grouping({key}) = 0 THEN ({key})::text" for key in _SNAPSHOT_DIMENSIONS.values())
    won, lost = "l.stage = 'won'", "l.stage = 'lost'"
    return f"""INSERT INTO {{target}}
SELECT {"l.organization_id" if all_organizations else "%(org)s"},
    CASE WHEN grouping(m) = 0 THEN 'month' ELSE 'week' END, coalesce(m, w),
    CASE {dimension} ELSE '' END, coalesce(CASE {value} END, ''),
    count(*) FILTER (WHERE e.kind = 'lead'),
    count(*) FILTER (WHERE e.kind = 'lead' AND s.is_inbound),
    count(*) FILTER (WHERE e.kind = 'mql'),
    count(*) FILTER (WHERE e.kind = 'sql'),
    count(*) FILTER (WHERE e.kind = 'opportunity'),
    count(*) FILTER (WHERE e.kind = 'won'),
    count(*) FILTER (WHERE e.kind = 'lost'),
    count(*) FILTER (WHERE e.kind IN ('won', 'lost')),
    count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_mql_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_sql_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND l.reached_opportunity_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND {won} AND l.closed_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND l.stage IN ('won', 'lost') AND l.closed_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral),
    count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral AND l.reached_mql_at < now()),
    count(*) FILTER (WHERE e.kind = 'lead' AND s.is_referral AND {won} AND l.closed_at < now())
FROM leads_lead l
JOIN tenancy_organization o ON o.id = l.organization_id
LEFT JOIN leads_source s ON s.id = l.source_id
LEFT JOIN (
    SELECT DISTINCT ON (r.lead_id) r.lead_id, r.partner_id FROM referrals_referral r
    WHERE r.lead_id IS NOT NULL AND r.partner_id IS NOT NULL ORDER BY r.lead_id, r.submitted_at, r.id
) lp ON lp.lead_id = l.id
CROSS JOIN LATERAL (VALUES
    ('lead', l.created_at), ('mql', l.reached_mql_at), ('sql', l.reached_sql_at),
    ('opportunity', l.reached_opportunity_at),
    ('won', CASE WHEN {won} THEN l.closed_at END), ('lost', CASE WHEN {lost} THEN l.closed_at END)
) AS e(kind, at)
CROSS JOIN LATERAL (SELECT
    date_trunc('month', e.at AT TIME ZONE o.time_zone)::date AS m,
    date_trunc('week', e.at AT TIME ZONE o.time_zone)::date AS w
) AS b
WHERE l.deleted_at IS NULL AND e.at < now() {"" if all_organizations else "AND l.organization_id = %(org)s"}
GROUP BY GROUPING SETS ({", ".join(sets)})"""


# Nightly reference over every tenant (a role that bypasses RLS) and the per-tenant one (under RLS).
SNAPSHOT_REFERENCE_ALL = _snapshot_reference(all_organizations=True)
SNAPSHOT_REFERENCE_ONE = _snapshot_reference(all_organizations=False)
