"""T1 to T3 over the API: another organization's ids are 404 on every operation, lists and
filters never show its rows, and its ids are refused as relations (400)."""

from __future__ import annotations

import json

import pytest

from funnel.models import StageTransition
from leads.models import Activity, Industry, Lead
from leadtrack.tenancy.context import tenant_context
from tests.api.routes import api_operations, request
from tests.api.world import build_world
from tests.factories import verify_second_factor

BODIES = {
    "transitions": {"to_stage": "mql"},
    "activities": {"kind": "note", "subject": "Hijacked"},
}


def _body_for(operation) -> dict:
    for marker, body in BODIES.items():
        if marker in operation.route:
            return body
    return {"company": "Hijacked"}


@pytest.fixture
def worlds(org, other_org, alice, charlie):
    return build_world(org, member=alice, canary="ACMECANARY"), build_world(
        other_org, member=charlie, canary="GLOBEXCANARY"
    )


def _snapshot(other_org):
    with tenant_context(other_org):
        return (
            sorted(Lead.objects.values_list("pk", "version", "deleted_at")),
            StageTransition.objects.count(),
            Activity.objects.count(),
        )


@pytest.mark.parametrize("principal", ["api_key", "session_of_member_of_both"])
def test_every_operation_answers_404_for_another_organizations_ids(
    principal, worlds, org, other_org, acme_api, client, dana
):
    if principal == "api_key":
        caller = acme_api
    else:
        from rest_framework.test import APIClient

        caller = APIClient()
        caller.force_login(dana, backend="django.contrib.auth.backends.ModelBackend")
        verify_second_factor(caller, dana)
        caller.credentials(HTTP_X_ORGANIZATION=org.slug)
    _, theirs = worlds
    before = _snapshot(other_org)
    operations = [op for op in api_operations() if op.id_params]
    assert operations, "no API operation with an id found"
    wrong, successes = [], 0
    for operation in operations:
        assert set(operation.id_params) <= set(theirs.ids), (
            f"{operation}: add its kind of row to tests/api/world.py"
        )
        response = request(caller, operation, operation.path(**theirs.ids), _body_for(operation))
        successes += 200 <= response.status_code < 300
        if response.status_code != 404:
            wrong.append((str(operation), response.status_code))
    print(
        f"\n[T1] principal={principal} requests={len(operations)} operations={len(operations)} "
        f"cross-tenant 2xx={successes}"
    )
    assert wrong == []
    assert _snapshot(other_org) == before


def test_lists_never_include_another_organizations_rows(worlds, acme_api):
    mine, theirs = worlds
    lists = [op for op in api_operations() if not op.id_params and op.method == "GET"]
    nested = [op for op in api_operations() if op.id_params and op.method == "GET"]
    scanned = hits = 0
    for operation in lists:
        body = acme_api.get(operation.path()).content.decode()
        scanned += len(body)
        hits += body.count(theirs.canary)
    for operation in nested:
        body = acme_api.get(operation.path(**mine.ids)).content.decode()
        scanned += len(body)
        hits += body.count(theirs.canary)
    print(f"\n[T2] endpoints crawled={len(lists) + len(nested)} bytes scanned={scanned} canary hits={hits}")
    assert hits == 0
    leads = acme_api.get("/api/v1/leads/").json()["results"]
    assert [lead["company"] for lead in leads] == ["ACMECANARY Corp"]


@pytest.mark.parametrize(
    ("path", "param", "kind"),
    [
        ("/api/v1/leads/", "source", "source_id"),
        ("/api/v1/leads/", "campaign", "campaign_id"),
        ("/api/v1/leads/", "owner", "user_id"),
        ("/api/v1/activities/", "lead", "lead_id"),
        ("/api/v1/campaigns/", "source", "source_id"),
        ("/api/v1/spend/", "campaign", "campaign_id"),
    ],
)
def test_filtering_by_another_organizations_id_is_a_400(worlds, acme_api, path, param, kind):
    _, theirs = worlds
    response = acme_api.get(path, {param: theirs.ids[kind]})
    assert response.status_code == 400
    assert param in response.json()["errors"]


def test_another_organizations_relations_are_refused_on_create_and_update(worlds, acme_api, other_org, alice):
    mine, theirs = worlds
    with tenant_context(other_org):
        industry = Industry.objects.create(organization=other_org, name="Globex industry")
    relations = {
        "source": theirs.ids["source_id"],
        "campaign": theirs.ids["campaign_id"],
        "owner": theirs.ids["user_id"],
        "industry": industry.pk,
    }
    accepted = 0
    for field, foreign_id in relations.items():
        created = acme_api.post(
            "/api/v1/leads/", {"company": f"T3 {field}", field: foreign_id}, format="json"
        )
        updated = acme_api.patch(f"/api/v1/leads/{mine.ids['lead_id']}/", {field: foreign_id}, format="json")
        for response in (created, updated):
            accepted += response.status_code < 300
            assert response.status_code == 400, (field, response.json())
            assert field in response.json()["errors"]
    print(f"\n[T3] relation fields tested={len(relations)} accepted={accepted}")
    assert json.dumps(acme_api.get("/api/v1/leads/").json()).count("T3 ") == 0
