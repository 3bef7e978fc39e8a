from __future__ import annotations

from django.http import HttpRequest

from leadtrack.tenancy.roles import PERMISSIONS, role_can


class _Can:
    """``{% if can.leads_import %}`` in templates: the role table, read by templates."""

    def __init__(self, role: str | None):
        self._role = role

    def __getattr__(self, name: str) -> bool:
        permission = name.replace("_", ".", 1)
        if permission not in PERMISSIONS:
            raise AttributeError(name)
        return role_can(self._role, permission)


def tenancy(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    return {
        "organization": getattr(request, "organization", None),
        "membership": membership,
        "can": _Can(membership.role if membership else None),
    }
