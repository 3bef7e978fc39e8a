"""SQL shared by the harness, the reference views and the recompute fan-out."""

from __future__ import annotations

SUMMARY_TABLE = "bench_funnel_monthly"
# The fields of one lead in a list response (references and bare WSGI).
LIST_FIELDS = (
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
