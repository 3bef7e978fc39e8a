"""Leads over the API: create, read, list with the UI's filters, update with ETags, delete."""

from __future__ import annotations

from tests.factories import make_lead


def test_it_creates_reads_and_lists_a_lead(acme_api, org):
    created = acme_api.post(
        "/api/v1/leads/",
        {
            "company": "Initech",
            "contact_name": "Peter Gibbons",
            "email": "Peter@Initech.example",
            "country": "US",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["email"] == "peter@initech.example"
    assert body["region"] == "north_america"
    assert body["stage"] == "lead"
    assert created["ETag"] == f'"{body["version"]}"'
    assert created["Location"] == f"/api/v1/leads/{body['id']}/"

    fetched = acme_api.get(f"/api/v1/leads/{body['id']}/")
    assert fetched.status_code == 200
    assert fetched.json() == body

    listed = acme_api.get("/api/v1/leads/", {"search": "gibbons"})
    assert listed.status_code == 200
    assert [lead["id"] for lead in listed.json()["results"]] == [body["id"]]


def test_patch_with_a_stale_etag_is_a_412_and_changes_nothing(acme_api, org):
    lead = make_lead(org, company="Initech")
    first = acme_api.get(f"/api/v1/leads/{lead.pk}/")
    etag = first["ETag"]
    ok = acme_api.patch(
        f"/api/v1/leads/{lead.pk}/", {"phone": "+1 555 0100"}, format="json", HTTP_IF_MATCH=etag
    )
    assert ok.status_code == 200
    assert ok["ETag"] != etag
    stale = acme_api.patch(
        f"/api/v1/leads/{lead.pk}/", {"phone": "+1 555 0199"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert stale.json()["type"] == "precondition_failed"
    assert acme_api.get(f"/api/v1/leads/{lead.pk}/").json()["phone"] == "+1 555 0100"
    moved = acme_api.post(
        f"/api/v1/leads/{lead.pk}/transitions/", {"to_stage": "mql"}, format="json", HTTP_IF_MATCH=etag
    )
    assert moved.status_code == 412
    assert (
        acme_api.patch(f"/api/v1/leads/{lead.pk}/", {}, format="json", HTTP_IF_MATCH='"abc"').status_code
        == 412
    )
    print("\n[D4] API PATCH and stage transition: stale If-Match → 412, not overwritten")


def test_bad_input_is_a_400_with_field_errors_in_the_one_shape(acme_api):
    response = acme_api.post(
        "/api/v1/leads/",
        {"company": "X", "country": "XX", "email": "not-an-email", "stage": "won", "score": 99},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert set(body) == {"type", "detail", "errors"}
    assert set(body["errors"]) == {"stage", "score"}  # unknown fields are refused first
    response = acme_api.post(
        "/api/v1/leads/", {"company": "X", "country": "XX", "email": "nope"}, format="json"
    )
    assert set(response.json()["errors"]) == {"country", "email"}
    assert acme_api.post("/api/v1/leads/", {}, format="json").json()["errors"] == {
        "non_field_errors": ["Give at least a company, a contact name or an e-mail."]
    }
    assert acme_api.post("/api/v1/leads/", "[1, 2", content_type="application/json").status_code == 400
    assert acme_api.post("/api/v1/leads/", ["a"], format="json").status_code == 400
    unsupported = acme_api.post(
        "/api/v1/leads/", "company=X", content_type="application/x-www-form-urlencoded"
    )
    assert unsupported.status_code == 415
    assert unsupported.json()["type"] == "unsupported_media_type"
    assert acme_api.put("/api/v1/leads/", {}, format="json").json()["type"] == "method_not_allowed"
    assert acme_api.get("/api/v1/nothing-here/").json() == {
        "type": "not_found",
        "detail": "Not found.",
        "errors": {},
    }


def test_a_duplicate_is_a_409_naming_the_existing_lead(acme_api, org):
    existing = make_lead(org, company="Initech", email="pat@initech.example")
    response = acme_api.post(
        "/api/v1/leads/", {"company": "Other", "email": "PAT@initech.example"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == existing.pk
    assert response.json()["type"] == "conflict"


def test_it_moves_a_lead_through_the_funnel_with_the_stage_service(acme_api, org):
    lead = make_lead(org, company="Initech")
    mql = acme_api.post(f"/api/v1/leads/{lead.pk}/transitions/", {"to_stage": "mql"}, format="json")
    assert mql.status_code == 201, mql.json()
    assert mql.json()["from_stage"] == "lead" and mql.json()["to_stage"] == "mql"
    assert mql.json()["via"] == "api"
    refused = acme_api.post(
        f"/api/v1/leads/{lead.pk}/transitions/", {"to_stage": "opportunity"}, format="json"
    )
    assert refused.status_code == 400
    assert "amount" in refused.json()["errors"]
    opp = acme_api.post(
        f"/api/v1/leads/{lead.pk}/transitions/", {"to_stage": "opportunity", "amount": 500000}, format="json"
    )
    assert opp.status_code == 201
    conflict = acme_api.post(
        f"/api/v1/leads/{lead.pk}/transitions/", {"to_stage": "won", "expected_stage": "mql"}, format="json"
    )
    assert conflict.status_code == 409
    body = acme_api.get(f"/api/v1/leads/{lead.pk}/").json()
    assert body["stage"] == "opportunity"
    assert body["expected_amount"] == 500000
    assert body["reached_mql_at"] and body["reached_sql_at"] and body["reached_opportunity_at"]


def test_activities_nested_and_top_level(acme_api, org):
    lead = make_lead(org, company="Initech")
    other = make_lead(org, company="Hooli")
    logged = acme_api.post(
        f"/api/v1/leads/{lead.pk}/activities/", {"kind": "call", "subject": "Intro call"}, format="json"
    )
    assert logged.status_code == 201, logged.json()
    acme_api.post(f"/api/v1/leads/{other.pk}/activities/", {"kind": "note"}, format="json")
    nested = acme_api.get(f"/api/v1/leads/{lead.pk}/activities/").json()["results"]
    assert [a["subject"] for a in nested] == ["Intro call"]
    assert len(acme_api.get("/api/v1/activities/").json()["results"]) == 2
    assert len(acme_api.get("/api/v1/activities/", {"lead": lead.pk}).json()["results"]) == 1
    assert acme_api.get("/api/v1/activities/", {"kind": "demo"}).json()["results"] == []
    assert acme_api.get(f"/api/v1/activities/{logged.json()['id']}/").json()["kind"] == "call"
    assert acme_api.get(f"/api/v1/leads/{lead.pk}/").json()["first_contacted_at"] is not None
    bad = acme_api.post(f"/api/v1/leads/{lead.pk}/activities/", {"kind": "telepathy"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]


def test_delete_removes_the_lead_from_reads(acme_api, org):
    lead = make_lead(org, company="Initech")
    assert acme_api.delete(f"/api/v1/leads/{lead.pk}/").status_code == 204
    assert acme_api.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert acme_api.get("/api/v1/leads/").json()["results"] == []
    assert acme_api.delete(f"/api/v1/leads/{lead.pk}/").status_code == 404


def test_lists_take_the_ui_filters_ordering_and_updated_since(acme_api, org):
    old = make_lead(org, company="Old Co", country="DE")
    new = make_lead(org, company="New Co", country="US")
    acme_api.patch(f"/api/v1/leads/{old.pk}/", {"phone": "+49 1"}, format="json")
    ids = [lead["id"] for lead in acme_api.get("/api/v1/leads/").json()["results"]]
    assert ids == [new.pk, old.pk]
    by_update = acme_api.get("/api/v1/leads/", {"ordering": "-updated_at"}).json()["results"]
    assert by_update[0]["id"] == old.pk
    assert [x["id"] for x in acme_api.get("/api/v1/leads/", {"region": "europe"}).json()["results"]] == [
        old.pk
    ]
    since = acme_api.get(f"/api/v1/leads/{old.pk}/").json()["updated_at"]
    changed = acme_api.get("/api/v1/leads/", {"updated_since": since}).json()["results"]
    assert [x["id"] for x in changed] == [old.pk]
    assert acme_api.get("/api/v1/leads/", {"stage": "nope"}).status_code == 400
    assert acme_api.get("/api/v1/leads/", {"page_size": 100000}).status_code == 400
    assert acme_api.get("/api/v1/leads/", {"cursor": "garbage!"}).status_code == 400


def test_cursor_pages_are_stable_under_inserts(acme_api, org):
    for number in range(5):
        make_lead(org, company=f"Co {number}")
    first = acme_api.get("/api/v1/leads/", {"page_size": 2}).json()
    make_lead(org, company="Inserted meanwhile")
    seen = [lead["company"] for lead in first["results"]]
    url = first["next"]
    while url:
        page = acme_api.get(url).json()
        seen += [lead["company"] for lead in page["results"]]
        url = page["next"]
    assert seen == [f"Co {n}" for n in range(4, -1, -1)]


def test_sources_campaigns_spend_and_users_are_readable(acme_api, org, alice):
    from tests.api.world import build_world

    world = build_world(org, member=alice, canary="Acme")
    assert acme_api.get("/api/v1/sources/").json()["results"][0]["name"] == "Acme source"
    campaign = acme_api.get(f"/api/v1/campaigns/{world.ids['campaign_id']}/").json()
    assert campaign["source"] == world.ids["source_id"] and campaign["cost"] == 0
    spend = acme_api.get("/api/v1/spend/", {"spent_from": "2026-01-01"}).json()["results"]
    assert spend[0]["amount"] == 1234 and spend[0]["spent_on"] == "2026-01-05"
    assert acme_api.get("/api/v1/spend/", {"spent_from": "2026-02-01"}).json()["results"] == []
    users = acme_api.get("/api/v1/users/").json()["results"]
    assert users == [{"id": alice.pk, "email": alice.email, "full_name": alice.full_name, "role": "admin"}]
    assert acme_api.get("/api/v1/sources/", {"is_inbound": "maybe"}).status_code == 400
