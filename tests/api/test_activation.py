"""tenancy.context.activate / activation_scope: how an API request enters its organization."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from leadtrack.tenancy import context


def _db_org() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.organization_id', true)")
        return cursor.fetchone()[0] or ""


def test_activate_lasts_until_the_scope_ends(org):
    with transaction.atomic(), context.activation_scope(restore_database=True):
        assert context.current_organization_or_none() is None
        context.activate(org)
        assert context.current_organization() == org
        assert _db_org() == str(org.pk)
    assert context.current_organization_or_none() is None
    assert _db_org() == ""


def test_activate_outside_a_scope_is_refused(org):
    with transaction.atomic(), pytest.raises(RuntimeError, match="activation_scope"):
        context.activate(org)


def test_the_scope_restores_an_outer_organization(org, other_org):
    with context.tenant_context(org):
        with context.activation_scope(restore_database=True):
            context.activate(other_org)
            assert _db_org() == str(other_org.pk)
        assert context.current_organization() == org
        assert _db_org() == str(org.pk)


def test_an_api_request_leaves_no_organization_behind(acme_api, org):
    assert acme_api.get("/api/v1/leads/").status_code == 200
    assert context.current_organization_or_none() is None
    with transaction.atomic():
        assert _db_org() == ""


def test_an_error_inside_the_scope_still_clears_the_organization(org):
    with (
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
        context.activation_scope(restore_database=True),
    ):
        context.activate(org)
        1 / 0  # noqa: B018
    assert context.current_organization_or_none() is None
