"""POST /api/v1/leads/bulk/: upsert through the importer's service, per-item results."""

from __future__ import annotations

from funnel.models import StageTransition
from leads.imports.services import FAST_PATH_MIN_ROWS
from leads.models import Lead, Source
from leads.services import lead_update
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead


def test_mixed_good_and_bad_items_get_one_result_each(acme_api, org, alice):
    existing = make_lead(org, company="Old name", email="known@initech.example")
    response = acme_api.post(
        "/api/v1/leads/bulk/",
        {
            "items": [
                {
                    "company": "Hooli",
                    "email": "gavin@hooli.example",
                    "source": "Trade show",
                    "expected_amount": 1250,
                },
                {"email": "KNOWN@initech.example", "company": "New name"},
                {"company": "Bad", "email": "not-an-email"},
                {"company": "Bad 2", "country": "XX"},
                {"company": "Typed", "source": 12},
                {"company": "History", "stage": "won"},
                {"company": "Owned", "owner": alice.email},
                {"company": "Nobody's", "owner": "stranger@example.com"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "created",
        "updated",
        "error",
        "error",
        "error",
        "error",
        "created",
        "error",
    ]
    assert results[1]["lead_id"] == existing.pk
    assert "email" in results[2]["errors"] and "country" in results[3]["errors"]
    assert "source" in results[4]["errors"] and "stage" in results[5]["errors"]
    assert "owner" in results[7]["errors"]
    assert response.json()["summary"] == {"created": 2, "updated": 1, "duplicate": 0, "error": 5}
    with tenant_context(org):
        hooli = Lead.objects.get(pk=results[0]["lead_id"])
        assert hooli.expected_amount == 1250 and hooli.source.name == "Trade show"
        assert Source.objects.filter(name="Trade show").count() == 1
        assert Lead.objects.get(pk=existing.pk).company == "New name"
        assert Lead.objects.get(pk=results[6]["lead_id"]).owner == alice


def test_all_or_nothing_writes_nothing_when_one_item_fails(acme_api, org):
    response = acme_api.post(
        "/api/v1/leads/bulk/",
        {"items": [{"company": "Good"}, {"email": "bad"}], "all_or_nothing": True},
        format="json",
    )
    assert [r["status"] for r in response.json()["results"]] == ["error", "error"]
    with tenant_context(org):
        assert Lead.objects.count() == 0


def test_the_import_scope_may_carry_history(org, client_for):
    importer = client_for(org, ("read", "write", "import"))
    response = importer.post(
        "/api/v1/leads/bulk/",
        {
            "items": [
                {
                    "company": "Migrated",
                    "external_id": "crm-1",
                    "created_at": "2025-01-10T09:00:00Z",
                    "stage": "sql",
                    "reached_mql_at": "2025-02-01T09:00:00Z",
                    "reached_sql_at": "2025-03-01T09:00:00Z",
                }
            ]
        },
        format="json",
    )
    [result] = response.json()["results"]
    assert result["status"] == "created", result
    lead = importer.get(f"/api/v1/leads/{result['lead_id']}/").json()
    assert lead["stage"] == "sql"
    assert lead["created_at"].startswith("2025-01-10")
    with tenant_context(org):
        assert StageTransition.objects.filter(lead_id=result["lead_id"]).count() >= 2


def test_the_batch_is_bounded_and_needs_write(org, client_for, settings):
    writer = client_for(org, ("write",))
    too_many = writer.post(
        "/api/v1/leads/bulk/",
        {"items": [{"company": "x"}] * (settings.API_BULK_MAX_ITEMS + 1)},
        format="json",
    )
    assert too_many.status_code == 400 and "items" in too_many.json()["errors"]
    reader = client_for(org, ("read",))
    assert reader.post("/api/v1/leads/bulk/", {"items": [{"company": "x"}]}, format="json").status_code == 403
    assert writer.post("/api/v1/leads/bulk/", {"items": []}, format="json").status_code == 400


def test_a_thousand_leads_in_one_call(acme_api, org):
    items = [
        {"company": f"Bulk {n}", "email": f"bulk{n}@example.com", "external_id": f"b-{n}"}
        for n in range(1000)
    ]
    response = acme_api.post("/api/v1/leads/bulk/", {"items": items}, format="json")
    assert response.status_code == 200
    summary = response.json()["summary"]
    print(f"\n[bulk] items=1000 summary={summary}")
    assert summary == {"created": 1000, "updated": 0, "duplicate": 0, "error": 0}
    again = acme_api.post("/api/v1/leads/bulk/", {"items": items[:10]}, format="json").json()["summary"]
    assert again["updated"] + again["duplicate"] == 10


def _change_as_another_user(org, lead, user) -> None:
    with tenant_context(org):
        lead_update(org=org, actor=user, lead_id=lead.pk, data={"phone": "+1 555 0100"})


def test_an_item_with_a_stale_version_is_a_conflict_and_the_lead_is_not_changed(acme_api, org, alice):
    lead = make_lead(org, company="Initech", email="peter@initech.example")
    read = acme_api.get(f"/api/v1/leads/{lead.pk}/").json()["version"]
    _change_as_another_user(org, lead, alice)
    item = {"email": "peter@initech.example", "company": "Initech Ltd", "version": read}
    response = acme_api.post("/api/v1/leads/bulk/", {"items": [item, {"company": "New Co"}]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0] == {
        "index": 0,
        "status": "error",
        "lead_id": lead.pk,
        "errors": {
            "version": [
                f"Lead {lead.pk} changed since version {read}; this row was not written. "
                "Read the lead again and retry."
            ]
        },
    }
    assert body["summary"] == {"created": 1, "updated": 0, "duplicate": 0, "error": 1}
    with tenant_context(org):
        kept = Lead.objects.get(pk=lead.pk)
    assert (kept.company, kept.phone, kept.version) == ("Initech", "+1 555 0100", read + 1)
    # Read again: the current version updates.
    current = acme_api.get(f"/api/v1/leads/{lead.pk}/").json()["version"]
    again = acme_api.post("/api/v1/leads/bulk/", {"items": [{**item, "version": current}]}, format="json")
    assert again.json()["results"][0]["status"] == "updated"
    with tenant_context(org):
        assert Lead.objects.values_list("company", "version").get(pk=lead.pk) == ("Initech Ltd", current + 1)
    print(
        f"\n[D4] API bulk upsert, per-row path: stale version {read} → error on version, lead kept; "
        "current version → updated"
    )


def test_a_large_batch_takes_the_set_based_path_and_never_overwrites_a_stale_lead(acme_api, org, alice):
    stale = make_lead(org, company="Stale", external_id="ext-stale")
    fresh = make_lead(org, company="Fresh", external_id="ext-fresh")
    _change_as_another_user(org, stale, alice)
    items = [{"company": f"Set {n}", "email": f"set{n}@bulk.example"} for n in range(FAST_PATH_MIN_ROWS)]
    items[100] = {"external_id": "ext-stale", "company": "Stale overwritten", "version": 1}
    items[200] = {"external_id": "ext-fresh", "company": "Fresh updated", "version": 1}
    response = acme_api.post("/api/v1/leads/bulk/", {"items": items}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"created": FAST_PATH_MIN_ROWS - 2, "updated": 1, "duplicate": 0, "error": 1}
    conflict = body["results"][100]
    assert (conflict["index"], conflict["status"], conflict["lead_id"], list(conflict["errors"])) == (
        100,
        "error",
        stale.pk,
        ["version"],
    )
    assert body["results"][200]["status"] == "updated"
    with tenant_context(org):
        assert Lead.objects.values_list("company", "version").get(pk=stale.pk) == ("Stale", 2)
        assert Lead.objects.values_list("company", "version").get(pk=fresh.pk) == ("Fresh updated", 2)
        assert Lead.objects.count() == FAST_PATH_MIN_ROWS
    print(
        f"\n[D4] API bulk upsert, set-based path ({len(items)} items): 1 stale matched item → error on "
        f"version, lead kept at version 2; {body['summary']}"
    )
