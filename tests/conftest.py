"""Fixtures shared by every test.

Two organizations, Acme (``org``) and Globex (``other_org``); in Acme: Alice the
admin, Mike the manager, Bob the sales rep, Vera the viewer; Charlie is an
admin of Globex and an outsider to Acme; Dana belongs to both.
Tests talk to the real PostgreSQL and Redis that the settings point at.
"""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from leadtrack.celery import app as celery_app
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, add_member, verify_second_factor


@pytest.fixture(scope="session", autouse=True)
def _fast_tests():
    # PBKDF2's million iterations cost ~0.3 s per login; tests check behaviour, not hashing cost.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        celery_app.conf.task_always_eager = True
        celery_app.conf.task_eager_propagates = True
        yield


@pytest.fixture(autouse=True)
def _clear_axes_and_cache(db):
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="globex", name="Globex")


@pytest.fixture
def alice(org):
    user = UserFactory(email="alice@acme.example", full_name="Alice Admin")
    add_member(org, user, Role.ADMIN)
    return user


@pytest.fixture
def mike(org):
    user = UserFactory(email="mike@acme.example", full_name="Mike Manager")
    add_member(org, user, Role.MANAGER)
    return user


@pytest.fixture
def bob(org):
    user = UserFactory(email="bob@acme.example", full_name="Bob Rep")
    add_member(org, user, Role.SALES_REP)
    return user


@pytest.fixture
def vera(org):
    user = UserFactory(email="vera@acme.example", full_name="Vera Viewer")
    add_member(org, user, Role.VIEWER)
    return user


@pytest.fixture
def charlie(other_org):
    user = UserFactory(email="charlie@globex.example", full_name="Charlie Outsider")
    add_member(other_org, user, Role.ADMIN)
    return user


@pytest.fixture
def dana(org, other_org):
    user = UserFactory(email="dana@both.example", full_name="Dana Two-Orgs")
    add_member(org, user, Role.MANAGER)
    add_member(other_org, user, Role.SALES_REP)
    return user


@pytest.fixture
def in_org(org):
    """Run the test body inside Acme's tenant context."""
    with tenant_context(org):
        yield org


@pytest.fixture
def login(client):
    """Sign in without the login form (the form itself is tested in tests/accounts)."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        verify_second_factor(client, user)
        return client

    return _login
