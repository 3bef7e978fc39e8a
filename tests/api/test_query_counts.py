"""Performance: SQL statements per API request, constant in the page size (authentication excluded).

Authentication is the key lookup, its last-used stamp and the tenant activation
(``set_config``); savepoints are the test's own transaction nesting (in production
the request's transaction is the outermost one).
"""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_lead

NOT_COUNTED = re.compile(
    r"api_apikey|set_config|current_setting|^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO)", re.I
)


def _statements(callable_) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    return [q["sql"] for q in captured.captured_queries if not NOT_COUNTED.search(q["sql"])], response


def test_the_lead_list_costs_the_same_few_statements_for_any_page_size(acme_api, org):
    for number in range(60):
        make_lead(org, company=f"Co {number}", email=f"co{number}@example.com")
    acme_api.get("/api/v1/leads/")  # the key's last-used stamp is written once a minute
    counts = {}
    for size in (5, 50):
        statements, response = _statements(
            lambda size=size: acme_api.get("/api/v1/leads/", {"page_size": size})
        )
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts[size] = len(statements)
    filtered, _ = _statements(
        lambda: acme_api.get("/api/v1/leads/", {"page_size": 50, "stage": "lead", "q": "co"})
    )
    print(f"\n[perf] lead list statements: page 5={counts[5]} page 50={counts[50]} filtered={len(filtered)}")
    assert counts[5] == counts[50] <= 3
    assert len(filtered) <= 3


def test_lead_create_costs_its_two_rows_and_its_audit_row(acme_api, org):
    """The lead and its first transition, two INSERTs: no duplicate check before the insert (the
    unique indexes decide; leads.services._duplicates_named), no settings read (cached).
    The audit row (D14) is one more INSERT, in the same transaction so that no write commits
    without its event (a deferred or after-commit write could be lost, and would run outside the
    tenant). The goal (docs/performance.md) is at most 4 besides authentication."""
    make_lead(org, company="Warm-up")  # creates the organization's lead settings row once
    acme_api.get("/api/v1/leads/")
    statements, response = _statements(
        lambda: acme_api.post(
            "/api/v1/leads/", {"company": "Initech", "email": "a@initech.example"}, format="json"
        )
    )
    assert response.status_code == 201
    audit = [sql for sql in statements if "audit_auditevent" in sql]
    print(f"\n[perf] lead create statements={len(statements)} (audit={len(audit)})")
    assert len(audit) == 1, statements
    assert len(statements) - len(audit) == 2, statements


def test_lead_create_writes_in_one_savepoint(acme_api, org):
    """The create's own savepoint also guards the duplicate check (leads.services._duplicates_named);
    the other one here is the request's transaction, nested in the test's."""
    make_lead(org, company="Warm-up")  # creates the organization's lead settings row once
    acme_api.get("/api/v1/leads/")
    with CaptureQueriesContext(connection) as captured:
        response = acme_api.post("/api/v1/leads/", {"company": "Initech"}, format="json")
    assert response.status_code == 201
    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 2, savepoints


def test_webhook_events_cost_no_sql_in_an_organization_without_endpoints(org):
    from leadtrack.api.services import emit

    emit(org.pk, "lead.created", {"lead": {"id": 1}})  # fills the subscription cache
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert emit(org.pk, "lead.updated", {"lead": {"id": 1}}) == []
    print(f"\n[perf] after-commit webhook statements per write without endpoints={len(captured) / 3:g}")
    assert len(captured) == 0
