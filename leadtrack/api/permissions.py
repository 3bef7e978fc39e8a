"""Function-level access for the API: the role table for people, scopes for keys.

Each view names, per HTTP method, the role permission (leadtrack/tenancy/roles.py)
and the key scope it needs::

    access = {"GET": ("leads.view", Scope.READ), "POST": ("leads.create", Scope.WRITE)}

A method missing from the table is refused (fail closed). Object-level access
(another organization's id, a rep's colleague's lead) is the views' querysets'
job: those answer 404.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from leadtrack.api.authentication import ApiAccess
from leadtrack.tenancy.roles import role_can

_SAME_AS_GET = ("HEAD", "OPTIONS")


def required_for(view, method: str) -> tuple[str, str] | None:
    table = getattr(view, "access", {})
    return table.get("GET" if method in _SAME_AS_GET else method)


class ApiPermission(BasePermission):
    message = "Your key or role does not allow this."

    def has_permission(self, request, view) -> bool:
        access = request.auth
        if not isinstance(access, ApiAccess):
            return False
        required = required_for(view, request.method)
        if required is None:
            # No handler: let DRF answer 405. A handler missing from the table: refused.
            return not hasattr(view, request.method.lower())
        permission, scope = required
        if access.api_key is not None:
            return access.has_scope(scope)
        return role_can(access.membership.role, permission)
