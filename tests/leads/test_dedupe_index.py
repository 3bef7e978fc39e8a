"""The duplicate check that runs on every lead write is an index lookup under row-level security.

RLS lets an index serve only conditions built from leakproof functions; lower() is not one, so a
check written as lower(email) = … read every lead of the organization (10 ms at 10k leads, 23 ms
under the app role, growing with the tenant). These tests read the plan PostgreSQL really chooses,
as the application role, with sequential scans priced out so a small test table cannot hide it.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql

from leads.imports.parsing import ParsedRow
from leads.imports.services import _match_existing
from leads.models import Lead
from leads.services import duplicate_of
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def _index_conditions(plan: dict) -> list[str]:
    found = [plan["Index Cond"]] if "Index Cond" in plan else []
    for child in plan.get("Plans", []):
        found += _index_conditions(child)
    return found


def _plan_conditions(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    conditions = _index_conditions(plan)
    if not any("email_lower" in condition for condition in conditions):
        print(f"\n[perf] not the plan expected: {json.dumps(plan)}")
    return conditions


def _analyze_leads() -> None:
    """Statistics as a tenant's own would read: this organization holds the table's live leads.

    Without them the planner may take the statistics of an earlier test's table, where this
    organization holds about one lead; any index on organization_id then ties with the unique one,
    and which wins is chance. ANALYZE counts this transaction's uncommitted rows; only the owner
    may run it, so the block steps out of the application role and back.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE NONE")
        cursor.execute("ANALYZE leads_lead")
        cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(settings.DATABASE_APP_ROLE)))


def _lead_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"leads_lead"' in q["sql"]]


def test_the_duplicate_check_looks_the_email_up_in_its_unique_index(org):
    with tenant_context(org):
        for n in range(30):
            make_lead(org, company=f"Company {n}", email=f"person.{n}@example.com")
        _analyze_leads()
        candidate = Lead(organization=org, email="Person.7@Example.com", contact_name="P Seven")
        with CaptureQueriesContext(connection) as queries:
            found = duplicate_of(org=org, lead=candidate)
        assert found is not None and found[1] == "e-mail"
        (sql,) = _lead_queries(queries.captured_queries)
        conditions = _plan_conditions(sql)
    print(f"\n[perf] duplicate check index conditions={conditions}")
    assert any("email_lower" in condition for condition in conditions), conditions


def test_an_import_row_matches_its_lead_through_the_email_index(org):
    with tenant_context(org):
        for n in range(30):
            make_lead(org, company=f"Company {n}", email=f"person.{n}@example.com")
        _analyze_leads()
        row = ParsedRow(values={"email": "person.3@example.com"}, derived={"email": "person.3@example.com"})
        with CaptureQueriesContext(connection) as queries:
            found = _match_existing(org=org, row=row, match_on=("email",))
        assert found is not None and found.email == "person.3@example.com"
        (sql,) = _lead_queries(queries.captured_queries)
        conditions = _plan_conditions(sql)
    assert any("email_lower" in condition for condition in conditions), conditions
