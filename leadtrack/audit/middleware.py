"""Request id for every request, and the audit events only the HTTP layer can see.

``RequestIdMiddleware`` (first in MIDDLEWARE) takes a sane ``X-Request-ID`` or makes one, keeps it
on ``request.request_id`` and in the request context for logs and audit rows, and returns it.

``AuditMiddleware`` (after TenantMiddleware, so inside the request's transaction with the
organization active) records, for tenant requests, one rule each:
- a 403 answer is a failed authorization, wherever it was decided (the role check of a page,
  the API's permission class, a view's own PermissionDenied);
- a 2xx answer sent as an attachment is an export (leads CSV/XLSX, report CSV/XLSX/PDF, …),
  so a new export is audited without anyone remembering to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from django.http import HttpRequest, HttpResponse

from leadtrack.audit import context
from leadtrack.audit.models import Action
from leadtrack.audit.services import audit_record
from leadtrack.tenancy.context import current_organization_or_none

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_META_KEY = "HTTP_" + context.REQUEST_ID_HEADER.upper().replace("-", "_")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = context.sane_request_id(request.META.get(_META_KEY))
        request.request_id = request_id
        with context.request_scope(request_id):
            response = self.get_response(request)
        response[context.REQUEST_ID_HEADER] = request_id
        return response


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def _attachment_format(response: HttpResponse) -> str | None:
    disposition = response.get("Content-Disposition", "")
    if not disposition.startswith("attachment"):
        return None
    filename = disposition.partition("filename=")[2].strip('"; ')
    return PurePosixPath(filename).suffix.lstrip(".").lower()[:10]


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(request, "membership", None) is not None:
            # A page of an organization: TenantMiddleware has loaded the person already.
            context.bind(user_id=request.user.pk)
        response = self.get_response(request)
        # API requests activate their organization during authentication, inside the view.
        organization = current_organization_or_none()
        if organization is None:
            return response
        ctx = context.current()
        actor_user_id = ctx.user_id if ctx else None
        if response.status_code == 403:
            audit_record(
                org=organization,
                action=Action.AUTHZ_DENIED,
                actor_user_id=actor_user_id,
                object_type="view",
                target=_view_name(request),
                details={"method": request.method},
                level=logging.WARNING,
            )
        elif 200 <= response.status_code < 300:
            file_format = _attachment_format(response)
            if file_format is not None:
                audit_record(
                    org=organization,
                    action=Action.EXPORT,
                    actor_user_id=actor_user_id,
                    object_type="export",
                    target=_view_name(request),
                    # Names of the filters used, not their values (a search term may be a name).
                    details={
                        "format": file_format,
                        "params": sorted(k for k in request.GET if _PARAM_NAME.fullmatch(k)),
                    },
                )
        return response
