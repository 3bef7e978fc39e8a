"""GET /api/v1/leads/{id}/score/: read-only, scoped like the lead endpoints."""

from __future__ import annotations

from funnel.scoring.models import RuleKind
from funnel.scoring.services import bant_update, lead_rescore
from leadtrack.tenancy.context import tenant_context
from tests.api.conftest import _api_settings, acme_api, client_for, globex_api, make_key  # noqa: F401
from tests.factories import make_lead
from tests.scoring.conftest import NOW, add_rule


def test_it_returns_the_explanation_history_and_bant(org, robotics, acme_api):  # noqa: F811
    add_rule(org, name="Robotics", kind=RuleKind.INDUSTRY, industry=robotics, points=15)
    add_rule(org, name="Enterprise", kind=RuleKind.SEGMENT, segment="enterprise", points=20)
    lead = make_lead(org, company="Arm Co", industry=robotics, employees=5000)
    with tenant_context(org):
        lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        bant_update(
            org=org, actor=None, lead_id=lead.pk, budget=True, authority=True, need=True, timeline=True
        )
    response = acme_api.get(f"/api/v1/leads/{lead.pk}/score/")
    assert response.status_code == 200
    body = response.json()
    assert body["score"] == 35 == sum(line["points"] for line in body["explanation"])
    assert [(line["name"], line["category"], line["points"]) for line in body["explanation"]] == [
        ("Robotics", "fit", 15),
        ("Enterprise", "fit", 20),
    ]
    assert body["history"] == [
        {"at": "2026-06-01T12:00:00Z", "score": 35, "previous_score": 0, "reason": "lead_created"}
    ]
    assert body["bant"] == {
        "budget": True,
        "authority": True,
        "need": True,
        "timeline": True,
        "required": 4,
        "meets_criteria": True,
    }


def test_a_lead_never_scored_reads_as_zero(org, acme_api):  # noqa: F811
    lead = make_lead(org, company="New")
    body = acme_api.get(f"/api/v1/leads/{lead.pk}/score/").json()
    assert (body["score"], body["explanation"], body["history"], body["computed_at"]) == (0, [], [], None)


def test_another_organizations_lead_is_404(org, other_org, globex_api):  # noqa: F811
    lead = make_lead(org, company="Acme's")
    assert globex_api.get(f"/api/v1/leads/{lead.pk}/score/").status_code == 404


def test_a_rep_session_sees_only_their_own_leads_score(org, bob, mike, client):
    theirs = make_lead(org, company="Mike's", owner=mike)
    mine = make_lead(org, company="Bob's", owner=bob)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    headers = {"HTTP_X_ORGANIZATION": org.slug}
    assert client.get(f"/api/v1/leads/{theirs.pk}/score/", **headers).status_code == 404
    assert client.get(f"/api/v1/leads/{mine.pk}/score/", **headers).status_code == 200


def test_it_is_read_only(org, acme_api):  # noqa: F811
    lead = make_lead(org, company="Acme's")
    assert acme_api.post(f"/api/v1/leads/{lead.pk}/score/", {}, format="json").status_code == 405


def test_a_key_without_read_scope_is_refused(org, client_for):  # noqa: F811
    lead = make_lead(org, company="Acme's")
    assert client_for(org, ("write",)).get(f"/api/v1/leads/{lead.pk}/score/").status_code == 403
