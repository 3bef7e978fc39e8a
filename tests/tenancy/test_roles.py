"""T5: the role matrix, read from the one policy table, against every tenant page."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from leadtrack.tenancy.roles import INTERNAL, PERMISSIONS, Role, role_can
from tests.factories import UserFactory, add_member, verify_second_factor


def _tenant_get_routes() -> list[tuple[str, str]]:
    """(route, permission) of every tenant page that answers GET without path ids."""
    routes = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                permission = getattr(entry.callback, "required_permission", None)
                if permission and route.startswith("o/<slug:org_slug>/") and route.count("<") == 1:
                    routes.append((route, permission))

    walk(get_resolver().url_patterns)
    return routes


def test_the_policy_table_names_only_known_roles():
    for permission, roles in PERMISSIONS.items():
        assert roles <= set(Role), permission


def test_partners_hold_no_internal_permission():
    internal_permissions = [p for p in PERMISSIONS if p != "portal.use"]
    assert not any(role_can(Role.PARTNER, p) for p in internal_permissions)
    assert {Role.ADMIN, Role.MANAGER, Role.SALES_REP, Role.VIEWER} == INTERNAL


@pytest.mark.parametrize("role", list(Role))
def test_every_tenant_page_answers_each_role_as_the_table_says(client, org, role):
    user = UserFactory()
    add_member(org, user, role)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    verify_second_factor(client, user)
    routes = _tenant_get_routes()
    assert routes, "no tenant pages found"
    mismatches = []
    for route, permission in routes:
        path = "/" + route.replace("<slug:org_slug>", org.slug)
        response = client.get(path)
        if role_can(role, permission):
            # Allowed: the page, or a redirect to another page of the same organization
            # (e.g. an index that opens the current quarter).
            ok = response.status_code == 200 or (
                response.status_code == 302 and response["Location"].startswith(f"/o/{org.slug}/")
            )
        else:
            ok = response.status_code == 403
        if not ok:
            mismatches.append((path, response.status_code, role_can(role, permission)))
    print(f"\n[T5] role={role} cells={len(routes)} mismatches={len(mismatches)}")
    assert mismatches == []
