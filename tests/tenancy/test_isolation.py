"""Tenant isolation, layer by layer: ORM scope, row-level security, 404s, Celery."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from leadtrack.tenancy.context import TenantNotActiveError, no_tenant, tenant_context
from leadtrack.tenancy.db import tenant_models
from leadtrack.tenancy.models import Invitation, Membership
from leadtrack.tenancy.roles import Role


def _raw_membership_orgs() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT organization_id FROM tenancy_membership")
        return {row[0] for row in cursor.fetchall()}


class TestOrmScope:
    def test_it_scopes_the_default_manager_to_the_active_organization(self, alice, charlie, org, other_org):
        with tenant_context(org):
            assert list(Membership.objects.values_list("user__email", flat=True)) == [alice.email]
        with tenant_context(other_org):
            assert list(Membership.objects.values_list("user__email", flat=True)) == [charlie.email]

    def test_it_fails_closed_without_an_organization(self, alice):
        with no_tenant(), pytest.raises(TenantNotActiveError):
            list(Membership.objects.all())

    def test_the_escape_hatch_is_explicit_but_rls_still_applies(self, alice, charlie, org):
        # `unscoped` skips the ORM filter; the database still shows only the active tenant.
        with tenant_context(org):
            assert set(Membership.unscoped.values_list("organization_id", flat=True)) == {org.pk}
        with no_tenant(), transaction.atomic():
            assert Membership.unscoped.count() == 0

    def test_save_takes_the_active_organization(self, org, alice):
        with tenant_context(org):
            invitation = Invitation(
                email="x@example.com",
                role=Role.VIEWER,
                token_hash="h" * 64,
                expires_at="2030-01-01T00:00:00Z",
            )
            invitation.save()
            assert invitation.organization_id == org.pk


class TestRowLevelSecurity:
    def test_raw_sql_sees_only_the_active_organizations_rows(self, alice, charlie, org, other_org):
        with tenant_context(org):
            assert _raw_membership_orgs() == {org.pk}
        with tenant_context(other_org):
            assert _raw_membership_orgs() == {other_org.pk}

    def test_raw_sql_without_an_organization_returns_nothing(self, alice, charlie):
        with transaction.atomic():
            assert _raw_membership_orgs() == set()

    def test_with_check_refuses_a_row_for_another_organization(self, org, other_org, alice):
        with (
            tenant_context(org),
            pytest.raises(ProgrammingError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO tenancy_membership (organization_id, user_id, role, created_at) "
                "VALUES (%s, %s, 'admin', now())",
                [other_org.pk, alice.pk],
            )

    def test_the_app_role_is_not_superuser_bypassrls_or_owner(self, db):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            role, is_super, bypass = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
            )
            owned = cursor.fetchone()[0]
        assert (is_super, bypass, owned) == (False, False, 0), role

    def test_every_table_with_an_organization_column_is_protected(self, db):
        """T7: tenant tables vs protected tables, 0 gaps."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                       EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname)
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                WHERE c.relkind IN ('r', 'p')
                  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                              AND a.attname = 'organization_id' AND NOT a.attisdropped)
                """
            )
            rows = cursor.fetchall()
        gaps = [name for name, enabled, forced, has_policy in rows if not (enabled and forced and has_policy)]
        print(f"\n[T7] tenant tables={len(rows)} protected={len(rows) - len(gaps)} gaps={len(gaps)}")
        assert {name for name, *_ in rows} == {m._meta.db_table for m in tenant_models()}
        assert gaps == []

    def test_the_setting_never_outlives_a_request(self, client, login, alice, org):
        """T8: interleaved requests on one persistent connection leave no tenant behind."""
        login(alice)
        leaks = 0
        for _ in range(200):
            assert client.get(f"/o/{org.slug}/").status_code == 200
            assert client.get("/healthz").status_code == 200
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('app.organization_id', true)")
                leaks += bool(cursor.fetchone()[0])
        print(f"\n[T8] requests=400 leaks={leaks}")
        assert leaks == 0


class TestCrossTenantUrls:
    def test_a_member_of_another_organization_gets_404(self, client, login, charlie, org):
        login(charlie)
        for path in [f"/o/{org.slug}/", f"/o/{org.slug}/settings/members/"]:
            assert client.get(path).status_code == 404, path

    def test_an_unknown_organization_looks_the_same_as_a_foreign_one(self, client, login, charlie):
        login(charlie)
        assert client.get("/o/does-not-exist/").status_code == 404

    def test_a_foreign_membership_id_is_404_and_changes_nothing(
        self, client, login, alice, charlie, org, other_org
    ):
        with tenant_context(other_org):
            foreign = Membership.objects.get(user=charlie)
        login(alice)
        response = client.post(f"/o/{org.slug}/settings/members/{foreign.pk}/role/", {"role": Role.VIEWER})
        assert response.status_code == 404
        response = client.post(f"/o/{org.slug}/settings/members/{foreign.pk}/remove/")
        assert response.status_code == 404
        with tenant_context(other_org):
            assert Membership.objects.get(pk=foreign.pk).role == Role.ADMIN

    def test_anonymous_visitors_are_sent_to_login(self, client, org):
        response = client.get(f"/o/{org.slug}/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_a_person_in_two_organizations_reaches_both(self, client, login, dana, org, other_org):
        login(dana)
        assert client.get(f"/o/{org.slug}/").status_code == 200
        assert client.get(f"/o/{other_org.slug}/").status_code == 200
        response = client.get("/")
        assert response.status_code == 200
        assert {m.organization.slug for m in response.context["memberships"]} == {org.slug, other_org.slug}
