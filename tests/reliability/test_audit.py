"""D14: every listed action leaves exactly one audit event saying who, when, what, which tenant
and which request; the application's database role cannot rewrite or remove those events.

Each action is sent with its own ``X-Request-ID``, and the events are then found by that id.
Sign-in events have no organization (RLS hides such rows from the app role), so the events are
read as the login role: ``RESET ROLE`` on the test's own connection, inside its transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from psycopg2 import sql
from rest_framework.test import APIClient

from leads.models import Lead
from leadtrack.api.services import api_key_create
from leadtrack.audit.models import AuditEvent
from leadtrack.tenancy.context import tenant_context
from tests.factories import TEST_PASSWORD, make_lead


@contextlib.contextmanager
def _as_owner() -> Iterator[None]:
    """Read the audit trail as an auditor would: every organization's events and the ones without
    an organization. The owner is not a superuser (the embedded server) and the table forces row
    security on its owner too, so the force is lifted for the read, inside the test's transaction."""
    table = sql.Identifier(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        # ALTER TABLE waits for no deferred foreign-key checks: run the pending ones now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY").format(table))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(table))
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(settings.DATABASE_APP_ROLE)))


def _events(request_id: str) -> list[AuditEvent]:
    with _as_owner():
        return list(AuditEvent.unscoped.filter(request_id=request_id).order_by("pk"))


def _rid(name: str) -> str:
    return f"d14-{name}-00000001"


class World:
    """Acme with Mike (manager: creates, edits, deletes, exports), Vera (viewer: refused edits),
    two API keys (read-write, read-only), a lead to change and a lead to delete."""

    def __init__(self, org, mike, vera, client, login):
        self.org, self.mike, self.vera = org, mike, vera
        self.client, self.login = client, login
        self.api = self._api_client(("read", "write"))
        self.readonly_api = self._api_client(("read",))
        self.lead = make_lead(org, company="Initech", email="peter@initech.example")
        self.doomed = make_lead(org, company="Doomed Ltd")

    def _api_client(self, scopes: tuple[str, ...]) -> APIClient:
        with tenant_context(self.org):
            _, raw = api_key_create(org=self.org, actor=None, name=f"D14 {scopes}", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    def leads_url(self, tail: str = "") -> str:
        return f"/o/{self.org.slug}/leads/{tail}"

    def lead_version(self) -> int:
        with tenant_context(self.org):
            return Lead.objects.get(pk=self.lead.pk).version


def _ui_create(w: World, rid: str):
    w.login(w.mike)
    data = {"company": "Hooli", "email": "gavin@hooli.example", "currency": "USD", "owner": w.mike.pk}
    return w.client.post(w.leads_url("new/"), data, HTTP_X_REQUEST_ID=rid)


def _ui_update(w: World, rid: str):
    w.login(w.mike)
    data = {
        "company": "Initech Corp",
        "email": w.lead.email,
        "currency": "USD",
        "owner": "",
        "version": w.lead_version(),
    }
    return w.client.post(w.leads_url(f"{w.lead.pk}/edit/"), data, HTTP_X_REQUEST_ID=rid)


def _api_create(w: World, rid: str):
    return w.api.post("/api/v1/leads/", {"company": "Pied Piper"}, format="json", HTTP_X_REQUEST_ID=rid)


def _api_update(w: World, rid: str):
    return w.api.patch(
        f"/api/v1/leads/{w.lead.pk}/", {"phone": "+1 555 0100"}, format="json", HTTP_X_REQUEST_ID=rid
    )


def _api_delete(w: World, rid: str):
    return w.api.delete(f"/api/v1/leads/{w.doomed.pk}/", HTTP_X_REQUEST_ID=rid)


def _import_create(w: World, rid: str):
    """One row through the bulk endpoint: the importer's per-row path (the set-based one below)."""
    return w.api.post(
        "/api/v1/leads/bulk/", {"items": [{"company": "Imported Co"}]}, format="json", HTTP_X_REQUEST_ID=rid
    )


def _export_csv(w: World, rid: str):
    w.login(w.mike)
    response = w.client.get(w.leads_url("export/leads.csv"), {"q": "initech"}, HTTP_X_REQUEST_ID=rid)
    b"".join(response.streaming_content)
    return response


def _export_xlsx(w: World, rid: str):
    w.login(w.mike)
    return w.client.get(w.leads_url("export/leads.xlsx"), HTTP_X_REQUEST_ID=rid)


def _export_report_csv(w: World, rid: str):
    w.login(w.mike)
    return w.client.get(
        f"/o/{w.org.slug}/dashboards/breakdowns/source/", {"format": "csv"}, HTTP_X_REQUEST_ID=rid
    )


def _login_success(w: World, rid: str):
    w.client.logout()
    return w.client.post(
        "/accounts/login/", {"username": w.mike.email, "password": TEST_PASSWORD}, HTTP_X_REQUEST_ID=rid
    )


def _login_failure(w: World, rid: str):
    w.client.logout()
    return w.client.post(
        "/accounts/login/", {"username": w.mike.email, "password": "wrong-password"}, HTTP_X_REQUEST_ID=rid
    )


def _ui_denied(w: World, rid: str):
    w.login(w.vera)
    return w.client.get(w.leads_url(f"{w.lead.pk}/edit/"), HTTP_X_REQUEST_ID=rid)


def _api_denied(w: World, rid: str):
    return w.readonly_api.post("/api/v1/leads/", {"company": "Refused"}, format="json", HTTP_X_REQUEST_ID=rid)


# name → (perform, expected status, action, tenant event?, actor: "mike" / "vera" / "key" / None)
LISTED: dict[str, tuple[Callable, int, str, bool, str | None]] = {
    "lead create (UI)": (_ui_create, 302, "lead.create", True, "mike"),
    "lead update (UI)": (_ui_update, 302, "lead.update", True, "mike"),
    "lead create (API)": (_api_create, 201, "lead.create", True, "key"),
    "lead update (API)": (_api_update, 200, "lead.update", True, "key"),
    "lead delete (API)": (_api_delete, 204, "lead.delete", True, "key"),
    "lead create (import)": (_import_create, 200, "lead.create", True, "key"),
    "export leads CSV": (_export_csv, 200, "export", True, "mike"),
    "export leads XLSX": (_export_xlsx, 200, "export", True, "mike"),
    "export report CSV": (_export_report_csv, 200, "export", True, "mike"),
    "login success": (_login_success, 302, "login.success", False, "mike"),
    "login failure": (_login_failure, 200, "login.failure", False, None),
    "failed authz (UI 403)": (_ui_denied, 403, "authz.denied", True, "vera"),
    "failed authz (API 403)": (_api_denied, 403, "authz.denied", True, "key"),
}


def _check(w: World, name: str) -> None:
    perform, expected_status, action, tenant_event, actor = LISTED[name]
    rid = _rid("".join(ch if ch.isalnum() else "-" for ch in name))
    response = perform(w, rid)
    assert response.status_code == expected_status, (name, response.status_code)
    assert response["X-Request-ID"] == rid

    events = _events(rid)
    assert [e.action for e in events] == [action], (name, [e.action for e in events])
    event = events[0]
    assert event.at is not None
    assert event.organization_id == (w.org.pk if tenant_event else None)
    assert event.actor_user_id == {"mike": w.mike.pk, "vera": w.vera.pk}.get(actor)
    assert (event.actor_api_key_id is not None) == (actor == "key")
    if action.startswith("lead."):
        assert event.object_type == "lead" and event.object_id is not None
    if action == "lead.update":
        assert event.object_id == w.lead.pk and event.details["fields"], event.details
    if action.startswith("login."):
        # The account is named by id, never by the typed username.
        assert event.object_id == w.mike.pk
    if action in ("export", "authz.denied"):
        assert event.target


def test_each_listed_action_emits_exactly_one_event(world):
    covered, failures = 0, {}
    for name in LISTED:
        try:
            _check(world, name)
        except AssertionError as exc:
            failures[name] = str(exc)
        else:
            covered += 1
    print(f"\n[D14] actions covered={covered}/{len(LISTED)}")
    assert failures == {}


@pytest.fixture
def world(org, mike, vera, client, login):
    return World(org, mike, vera, client, login)


def test_a_set_based_import_emits_one_event_per_created_lead(world):
    from leads.imports.services import FAST_PATH_MIN_ROWS

    items = [{"company": f"Bulk {n}", "email": f"b{n}@bulk.example"} for n in range(FAST_PATH_MIN_ROWS)]
    rid = _rid("bulk-set-based")
    response = world.api.post("/api/v1/leads/bulk/", {"items": items}, format="json", HTTP_X_REQUEST_ID=rid)
    assert response.status_code == 200
    created = {r["lead_id"] for r in response.json()["results"] if r["status"] == "created"}
    events = _events(rid)
    assert len(created) == FAST_PATH_MIN_ROWS
    assert sorted(e.object_id for e in events) == sorted(created)
    assert {(e.action, e.organization_id, e.details["fields"] == ["company", "email"]) for e in events} == {
        ("lead.create", world.org.pk, True)
    }


def test_a_rolled_back_write_leaves_no_event(org, mike):
    with pytest.raises(RuntimeError), tenant_context(org), transaction.atomic():
        make_lead(org, company="Doomed", actor=mike)
        raise RuntimeError("after the write")
    with tenant_context(org):
        assert not AuditEvent.objects.filter(action="lead.create").exists()


def test_events_of_another_organization_are_invisible(org, other_org, mike):
    make_lead(org, company="Mine", actor=mike)
    with tenant_context(other_org):
        assert AuditEvent.unscoped.count() == 0
    with tenant_context(org):
        assert AuditEvent.unscoped.count() == 1


TAMPERING = {
    "UPDATE": "UPDATE audit_auditevent SET action = 'lead.update', actor_user_id = NULL",
    "DELETE": "DELETE FROM audit_auditevent",
    "TRUNCATE": "TRUNCATE audit_auditevent",
}


def test_the_app_role_cannot_update_or_delete_audit_rows(org, mike):
    """Through the application's own connection (the app role), inside the tenant."""
    lead = make_lead(org, company="Evidence", actor=mike)
    refused = 0
    with tenant_context(org):
        for statement in TAMPERING.values():
            with (
                pytest.raises(ProgrammingError, match="permission denied"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
            refused += 1
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            AuditEvent.objects.filter(object_id=lead.pk).update(actor_user_id=None)
        refused += 1
        event = AuditEvent.objects.get(object_id=lead.pk)
    assert (event.action, event.actor_user_id) == ("lead.create", mike.pk)
    print(f"\n[D14] tamper attempts by the app role refused={refused}/{len(TAMPERING) + 1}")


def test_the_app_role_may_still_append(org, mike):
    """The REVOKE is narrow: INSERT (and reading one's own tenant's rows) still work."""
    with tenant_context(org):
        make_lead(org, company="Appended", actor=mike)
        assert AuditEvent.objects.filter(action="lead.create").count() == 1


@pytest.mark.parametrize(
    "incoming", ["short", "has space-00000000", "x" * 65, "inject\r\nX-Evil: 1", "é-00000000"]
)
def test_an_insane_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_request_id_is_kept_and_a_missing_one_is_made(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123-DEF-456")["X-Request-ID"] == "abc-123-DEF-456"
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]
    assert first != second
