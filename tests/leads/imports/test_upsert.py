"""leads_upsert (per-row service path) and leads_upsert_bulk (set-based path): rules and equivalence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from funnel.models import StageTransition
from funnel.stages import Stage
from leads.imports.services import RowResult, leads_upsert, leads_upsert_bulk
from leads.models import Industry, Lead, Source, Via
from leads.services import lead_update
from tests.factories import make_lead
from tests.leads.imports.helpers import SALESFORCE_HEADERS, salesforce_rows

UPSERTS = pytest.mark.parametrize("upsert", [leads_upsert, leads_upsert_bulk], ids=["service", "bulk"])


def _rows(count: int, **overrides) -> list[dict]:
    return [
        {
            "company": f"Firm {n}",
            "contact_name": f"Pat {n}",
            "email": f"pat{n}@firm{n}.example",
            "country": "Germany",
            "employees": str(n * 100),
            "industry": "Software",
            "source": "Web",
            **overrides,
        }
        for n in range(count)
    ]


@UPSERTS
def test_valid_rows_are_created_with_derived_fields_and_a_dated_creation(in_org, mike, upsert):
    rows = _rows(3)
    rows[0]["expected_amount"] = "1,250.50"
    results = upsert(org=in_org, actor=mike, rows=rows, via=Via.IMPORT)
    assert [r.status for r in results] == ["created"] * 3
    lead = Lead.objects.get(pk=results[0].lead_id)
    assert (lead.country, lead.region, lead.domain, lead.expected_amount, lead.currency) == (
        "DE",
        "europe",
        "firm0.example",
        125050,
        "USD",
    )
    assert Lead.objects.get(pk=results[2].lead_id).segment == "mid_market"
    transition = StageTransition.objects.get(lead_id=results[1].lead_id)
    assert (transition.from_stage, transition.to_stage, transition.by, transition.via) == (
        "",
        "lead",
        mike,
        "import",
    )


@UPSERTS
def test_bad_rows_are_errors_naming_the_field_and_never_block_the_others(in_org, upsert):
    rows = _rows(4)
    rows[1]["created_at"] = "13/45/2024"
    rows[2]["country"] = "Atlantis"
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT, allow_history=True)
    assert [r.status for r in results] == ["created", "error", "error", "created"]
    assert list(results[1].errors) == ["created_at"] and list(results[2].errors) == ["country"]
    assert Lead.objects.count() == 2


@UPSERTS
def test_a_duplicate_in_the_batch_is_an_error_naming_the_earlier_row(in_org, upsert):
    rows = _rows(3)
    rows[2]["email"] = rows[0]["email"].upper()
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT)
    assert results[2] == RowResult(
        index=2, status="error", lead_id=None, errors={"email": ["Same e-mail as row 1 of this file."]}
    )


@UPSERTS
def test_a_duplicate_of_an_existing_lead_is_reported_and_not_written(in_org, upsert):
    existing = make_lead(in_org, company="Old Firm", email="pat1@firm1.example")
    by_name = make_lead(in_org, company="Firm 2", contact_name="PAT 2", website="https://firm2.example")
    results = upsert(org=in_org, actor=None, rows=_rows(3), via=Via.IMPORT, match_on=())
    assert [r.status for r in results] == ["created", "duplicate", "duplicate"]
    assert results[1].lead_id == existing.pk
    assert results[1].errors == {"email": ["A lead with the same e-mail exists: Old Firm."]}
    assert results[2].lead_id == by_name.pk and list(results[2].errors) == ["contact_name"]
    assert Lead.objects.count() == 3


@UPSERTS
def test_update_mode_updates_the_lead_matched_on_external_id_then_email(in_org, upsert):
    lead = make_lead(in_org, company="Old", email="pat0@firm0.example", external_id="X-1")
    rows = _rows(1, external_id="X-1", job_title="CEO")
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT)
    assert results[0].status == "updated" and results[0].lead_id == lead.pk
    lead.refresh_from_db()
    assert (lead.company, lead.job_title) == ("Firm 0", "CEO")


@UPSERTS
def test_a_row_with_a_stale_version_is_a_conflict_and_leaves_the_lead_as_it_is(in_org, alice, upsert):
    stale = make_lead(in_org, company="Stale", email="pat0@firm0.example")
    fresh = make_lead(in_org, company="Fresh", external_id="X-1")
    unversioned = make_lead(in_org, company="Unversioned", email="pat3@firm3.example")
    lead_update(org=in_org, actor=alice, lead_id=stale.pk, data={"job_title": "CTO"})  # → version 2
    rows = _rows(4, job_title="CEO")
    rows[0]["version"] = 1
    rows[1] |= {"external_id": "X-1", "version": "1"}
    rows[2]["version"] = 1  # matches no lead
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.API)
    assert results[0] == RowResult(
        index=0,
        status="error",
        lead_id=stale.pk,
        errors={
            "version": [
                f"Lead {stale.pk} changed since version 1; this row was not written. "
                "Read the lead again and retry."
            ]
        },
    )
    assert (results[1].status, results[1].lead_id) == ("updated", fresh.pk)
    assert (results[2].status, results[2].lead_id, list(results[2].errors)) == ("error", None, ["version"])
    assert (results[3].status, results[3].lead_id) == ("updated", unversioned.pk)
    kept = Lead.objects.get(pk=stale.pk)
    assert (kept.company, kept.job_title, kept.version) == ("Stale", "CTO", 2)
    assert Lead.objects.values_list("company", "job_title", "version").get(pk=fresh.pk) == (
        "Firm 1",
        "CEO",
        2,
    )
    assert Lead.objects.count() == 3
    print(
        f"\n[D4] leads_upsert ({upsert.__name__}): stale version → error on version, lead kept at version 2"
    )


@pytest.mark.parametrize("version", ["two", -1, True, 2.5])
def test_a_version_that_is_not_a_whole_number_is_an_error_on_it(in_org, version):
    make_lead(in_org, company="Kept", email="pat0@firm0.example")
    [result] = leads_upsert(org=in_org, actor=None, rows=_rows(1, version=version), via=Via.API)
    assert result.status == "error" and list(result.errors) == ["version"]
    assert Lead.objects.get().company == "Kept"


@UPSERTS
def test_rerunning_the_same_rows_creates_nothing_twice(in_org, upsert):
    rows = _rows(5)
    upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT, match_on=())
    again = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT, match_on=())
    assert {r.status for r in again} == {"duplicate"}
    updated = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT)
    assert {r.status for r in updated} == {"updated"}
    assert Lead.objects.count() == 5 and StageTransition.objects.count() == 5


@UPSERTS
def test_names_match_case_insensitively_and_missing_ones_are_created(in_org, upsert):
    Industry.objects.create(organization=in_org, name="Software")
    rows = _rows(2)
    rows[1]["industry"] = "SOFTWARE"
    rows[1]["source"] = "Partner Referral"
    upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT)
    assert list(Industry.objects.values_list("name", flat=True)) == ["Software"]
    partner = Source.objects.get(name="Partner Referral")
    assert (partner.channel_type, partner.is_referral, partner.is_inbound) == ("partner_referral", True, True)


@UPSERTS
def test_all_or_nothing_writes_nothing_when_a_row_fails(in_org, upsert):
    rows = _rows(3)
    rows[1]["country"] = "Atlantis"
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.API, all_or_nothing=True)
    assert [r.status for r in results] == ["error"] * 3
    assert list(results[1].errors) == ["country"] and "__all__" in results[0].errors
    assert Lead.objects.count() == 0


@UPSERTS
def test_history_writes_dated_transitions_and_reached_timestamps(in_org, mike, upsert):
    row = {
        "company": "Hist Co",
        "email": "h@hist.example",
        "stage": "Closed Won",
        "created_at": "01/05/24",
        "reached_mql_at": "2024-01-10",
        "reached_opportunity_at": "2024-02-01T12:00:00Z",
        "closed_at": "03/15/2024",
        "won_amount": "5000",
    }
    [result] = upsert(org=in_org, actor=mike, rows=[row], via=Via.IMPORT, allow_history=True)
    assert result.status == "created", result.errors
    lead = Lead.objects.get(pk=result.lead_id)
    assert lead.stage == Stage.WON
    assert lead.created_at == datetime(2024, 1, 5, tzinfo=UTC)
    assert lead.reached_mql_at == datetime(2024, 1, 10, tzinfo=UTC)
    # SQL was skipped: reached at the jump to opportunity.
    assert lead.reached_sql_at == lead.reached_opportunity_at == datetime(2024, 2, 1, 12, tzinfo=UTC)
    assert lead.closed_at == datetime(2024, 3, 15, tzinfo=UTC) and lead.won_amount == 500000
    moves = list(StageTransition.objects.filter(lead=lead).order_by("at", "pk").values_list("to_stage", "at"))
    assert moves == [
        ("lead", datetime(2024, 1, 5, tzinfo=UTC)),
        ("mql", datetime(2024, 1, 10, tzinfo=UTC)),
        ("opportunity", datetime(2024, 2, 1, 12, tzinfo=UTC)),
        ("won", datetime(2024, 3, 15, tzinfo=UTC)),
    ]


@UPSERTS
def test_history_that_breaks_a_stage_rule_is_an_error_on_its_column(in_org, upsert):
    rows = [
        # An opportunity needs an amount (the stage service's rule).
        {"company": "No Amount", "stage": "opportunity", "created_at": "2024-01-01"},
        # A stage date before the creation date.
        {"company": "Backwards", "stage": "mql", "created_at": "2024-05-01", "reached_mql_at": "2024-04-01"},
        # A CRM status that implies the reason.
        {"company": "Not Converted", "stage": "Closed - Not Converted", "created_at": "2024-01-01"},
    ]
    results = upsert(org=in_org, actor=None, rows=rows, via=Via.IMPORT, allow_history=True)
    assert [r.status for r in results] == ["error", "error", "created"]
    assert list(results[0].errors) == ["expected_amount"]
    assert list(results[1].errors) == ["reached_mql_at"]
    disqualified = Lead.objects.get(pk=results[2].lead_id)
    assert (disqualified.stage, disqualified.close_reason) == (
        "disqualified",
        "Imported as “Closed - Not Converted”",
    )
    assert Lead.objects.count() == 1


def _outcome(org) -> list[tuple]:
    """Everything an import decides about the leads, without ids and write times."""
    leads = Lead.objects.filter(organization=org, transitions__via=Via.IMPORT).distinct()
    leads = leads.select_related("industry", "source", "owner")
    return sorted(
        (
            lead.company, lead.contact_name, lead.email, lead.phone, lead.job_title, lead.website,
            lead.domain, str(lead.country), lead.region, str(lead.industry), lead.employees, lead.segment,
            str(lead.source),
            lead.stage, lead.currency, lead.external_id, lead.created_at, lead.reached_sql_at, lead.version,
            tuple(lead.transitions.order_by("at", "pk").values_list("from_stage", "to_stage", "at", "via")),
        )
        for lead in leads
    )  # fmt: skip


def test_both_paths_give_the_same_results_for_the_same_file(org, other_org):
    """The same Salesforce-style rows (with 3 bad rows, duplicates and history) through each path, each
    into its own organization with the same existing lead."""
    bad = {7: ("CreatedDate", "13/45/2024"), 50: ("Country", "Atlantis"), 90: ("Email", "not-an-email")}
    rows = [dict(zip(SALESFORCE_HEADERS, cells, strict=True)) for cells in salesforce_rows(120, bad=bad)]
    rename = {
        "Id": "external_id", "Company": "company", "Email": "email", "Phone": "phone", "Title": "job_title",
        "Website": "website", "Country": "country", "Industry": "industry", "NumberOfEmployees": "employees",
        "LeadSource": "source", "Status": "stage", "CreatedDate": "created_at",
    }  # fmt: skip
    records = [
        {rename[k]: v for k, v in row.items() if k in rename}
        | {"contact_name": f"{row['FirstName']} {row['LastName']}"}
        for row in rows
    ]
    records.append(dict(records[10]))  # a duplicate within the file
    outcomes, statuses = [], []
    for organization, upsert in ((org, leads_upsert), (other_org, leads_upsert_bulk)):
        from leadtrack.tenancy.context import tenant_context

        make_lead(organization, company="Existing", email=records[3]["email"])
        with tenant_context(organization):
            results = upsert(
                org=organization, actor=None, rows=records, via=Via.IMPORT, match_on=(), allow_history=True
            )
            statuses.append([(r.index, r.status, sorted(r.errors)) for r in results])
            outcomes.append(_outcome(organization))
    assert statuses[0] == statuses[1]
    assert outcomes[0] == outcomes[1]
    errors = [(index + 1, fields) for index, status, fields in statuses[0] if status == "error"]
    assert errors == [(7, ["created_at"]), (50, ["country"]), (90, ["email"]), (121, ["email"])]
    assert [(index + 1, status) for index, status, _ in statuses[0] if status == "duplicate"] == [
        (4, "duplicate")
    ]
