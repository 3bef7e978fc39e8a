"""Every channel routes a new lead without an owner: UI, API, per-row import, set-based import, referral."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from funnel.routing.models import LeadRouting, RoutingOutcome, RoutingTeam
from leads.imports.services import leads_upsert, leads_upsert_bulk
from leads.models import Lead, Via
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from tests.routing.conftest import make_rule, make_team, owners_of


@pytest.fixture
def round_robin(org, reps):
    team = make_team(org, "Inbound", reps)
    make_rule(org, "Everyone", team=team)
    return team


def _routing(org, lead_ids):
    with tenant_context(org):
        return list(
            LeadRouting.objects.filter(lead_id__in=lead_ids)
            .order_by("lead_id")
            .values_list("outcome", "rule_name", "team_name")
        )


def test_a_lead_typed_in_the_app_without_owner_is_routed(org, round_robin, login, mike):
    response = login(mike).post("/o/acme/leads/new/", {"company": "Typed Co", "owner": ""})
    assert response.status_code == 302
    with tenant_context(org):
        lead = Lead.objects.get(company="Typed Co")
    assert lead.owner.email == "rae@acme.example"
    assert _routing(org, [lead.pk]) == [(RoutingOutcome.ROUTED, "Everyone", "Inbound")]
    page = login(mike).get(f"/o/acme/leads/{lead.pk}/").content.decode()
    assert "Routed by rule <strong>Everyone</strong> (round robin in team Inbound)" in page


def test_a_lead_typed_in_the_app_with_an_owner_is_not_routed(org, round_robin, login, mike):
    login(mike).post("/o/acme/leads/new/", {"company": "Mine Co", "owner": mike.pk})
    with tenant_context(org):
        lead = Lead.objects.get(company="Mine Co")
    assert lead.owner == mike
    assert _routing(org, [lead.pk]) == [(RoutingOutcome.OWNER_GIVEN, "", "")]


def test_a_lead_posted_to_the_api_is_routed(org, round_robin):
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="CRM sync", scopes=("read", "write"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    first = client.post("/api/v1/leads/", {"company": "Api One"}, format="json")
    second = client.post("/api/v1/leads/", {"company": "Api Two"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    ids = [first.json()["id"], second.json()["id"]]
    with tenant_context(org):
        owners = list(Lead.objects.filter(pk__in=ids).order_by("pk").values_list("owner__email", flat=True))
    assert owners == ["rae@acme.example", "sam@acme.example"]


def test_a_refused_duplicate_does_not_take_a_reps_turn(org, round_robin):
    """The routing team's turn is written before the lead's INSERT, in the create's one savepoint:
    a duplicate refused by the unique index rolls it back with everything else."""
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="CRM sync", scopes=("read", "write"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    first = client.post("/api/v1/leads/", {"company": "Api One", "email": "one@api.example"}, format="json")
    again = client.post("/api/v1/leads/", {"company": "Api One", "email": "one@api.example"}, format="json")
    second = client.post("/api/v1/leads/", {"company": "Api Two"}, format="json")
    assert (first.status_code, again.status_code, second.status_code) == (201, 409, 201)
    assert again.json()["existing_id"] == first.json()["id"]
    with tenant_context(org):
        owners = [Lead.objects.get(pk=r.json()["id"]).owner.email for r in (first, second)]
    assert owners == ["rae@acme.example", "sam@acme.example"]


def _rows(count):
    return [{"company": f"Row {n}", "email": f"row{n}@row{n}.example"} for n in range(count)]


def test_a_per_row_import_routes_each_row(org, round_robin, mike):
    with tenant_context(org):
        results = leads_upsert(org=org, actor=mike, rows=_rows(4), via=Via.IMPORT)
    ids = [result.lead_id for result in results]
    with tenant_context(org):
        owners = list(Lead.objects.filter(pk__in=ids).order_by("pk").values_list("owner__email", flat=True))
    assert owners == ["rae@acme.example", "sam@acme.example", "tia@acme.example", "rae@acme.example"]


def test_a_set_based_import_routes_the_batch_and_records_it(org, round_robin, reps, mike):
    rows = _rows(7)
    rows[3]["owner"] = "mike@acme.example"
    with tenant_context(org):
        results = leads_upsert_bulk(org=org, actor=mike, rows=rows, via=Via.IMPORT)
    assert [r.status for r in results] == ["created"] * 7
    ids = [result.lead_id for result in results]
    with tenant_context(org):
        owners = list(Lead.objects.filter(pk__in=ids).order_by("pk").values_list("owner__email", flat=True))
        pointer = RoutingTeam.objects.get(pk=round_robin.pk).last_member.user.email
    assert owners == [
        "rae@acme.example",
        "sam@acme.example",
        "tia@acme.example",
        "mike@acme.example",
        "rae@acme.example",
        "sam@acme.example",
        "tia@acme.example",
    ]
    assert pointer == "tia@acme.example"
    outcomes = [outcome for outcome, _, _ in _routing(org, ids)]
    assert (
        outcomes == [RoutingOutcome.ROUTED] * 3 + [RoutingOutcome.OWNER_GIVEN] + [RoutingOutcome.ROUTED] * 3
    )
    with tenant_context(org):
        assert all(record.sla_due_at for record in LeadRouting.objects.filter(lead_id__in=ids))


def test_a_set_based_import_respects_capacity_and_rules_in_the_batch(org, reps, mike):
    rae, sam, _ = reps
    team = make_team(org, "Small", [rae, sam], capacity=2)
    make_rule(org, "Germany to the small team", team=team, countries=["DE"])
    rows = [{"company": f"De {n}", "country": "Germany"} for n in range(5)] + [
        {"company": "Fr", "country": "France"}
    ]
    with tenant_context(org):
        results = leads_upsert_bulk(org=org, actor=mike, rows=rows, via=Via.IMPORT)
    leads = [Lead(pk=result.lead_id) for result in results]
    assert owners_of(org, leads) == {"rae@acme.example": 2, "sam@acme.example": 2, None: 2}
    outcomes = [outcome for outcome, _, _ in _routing(org, [lead.pk for lead in leads])]
    assert outcomes == [RoutingOutcome.ROUTED] * 4 + [RoutingOutcome.NOBODY_AVAILABLE, RoutingOutcome.NO_RULE]


def test_a_batchs_assignments_by_a_person_rule_count_against_that_persons_team_capacity(org, reps, mike):
    rae, sam, _ = reps
    team = make_team(org, "Small", [rae, sam], capacity=2)
    make_rule(org, "Germany to Rae", user=rae, countries=["DE"])
    make_rule(org, "France to the small team", team=team, countries=["FR"])
    rows = [{"company": f"De {n}", "country": "Germany"} for n in range(2)] + [
        {"company": f"Fr {n}", "country": "France"} for n in range(3)
    ]
    with tenant_context(org):
        results = leads_upsert_bulk(org=org, actor=mike, rows=rows, via=Via.IMPORT)
    owners = owners_of(org, [Lead(pk=result.lead_id) for result in results])
    # Rae's two German leads fill her capacity: the team's turns go to Sam until he is full too.
    assert owners == {"rae@acme.example": 2, "sam@acme.example": 2, None: 1}


def test_a_referral_creates_a_routed_lead(org, round_robin):
    from tests.referrals.conftest import make_partner, make_program, submit

    partner = make_partner(org, "Partnerco")
    program = make_program(org)
    referral = submit(org, partner, program).referral
    with tenant_context(org):
        lead = Lead.objects.get(pk=referral.lead_id)
    assert lead.owner.email == "rae@acme.example"
    assert _routing(org, [lead.pk]) == [(RoutingOutcome.ROUTED, "Everyone", "Inbound")]
