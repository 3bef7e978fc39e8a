"""The one door every tenant page goes through: membership (404) then role (403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from leadtrack.tenancy.roles import role_can


def org_permission_required(permission: str) -> Callable:
    """Require an active organization (set by TenantMiddleware) and ``permission``.

    Not a member → 404 (the middleware already answered); member without the
    permission → 403. The URL's ``org_slug`` is consumed here.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, org_slug: str | None = None, **kwargs) -> HttpResponse:
            if getattr(request, "organization", None) is None or request.organization.slug != org_slug:
                raise Http404("No such organization")
            if not role_can(request.membership.role, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # read by the role-matrix test
        return wrapped

    return decorator
