"""Resolve the organization once per request, check membership, open the transaction.

``/o/<slug>/...``: the signed-in user must be a member of ``<slug>``, else 404
(the same answer as for a slug that does not exist). The request then runs in
one transaction with the organization active (ORM scope and RLS setting), and
``request.organization`` / ``request.membership`` are set for the views.

API requests authenticate with a key inside the view (DRF), so ``/api/`` paths
get the transaction and an ``activation_scope`` here, and the authentication
class activates the key's organization (``context.activate``) inside them.
A response with a 5xx status rolls the transaction back, as ATOMIC_REQUESTS would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from leadtrack.accounts import mfa
from leadtrack.tenancy import context
from leadtrack.tenancy.models import Membership, Organization

ORG_PATH = re.compile(r"^/o/(?P<slug>[-a-zA-Z0-9_]+)/")
TRANSACTIONAL_PREFIXES = ("/api/",)


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        match = ORG_PATH.match(request.path_info)
        if match:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return self._tenant_request(request, match["slug"])
        if request.path_info.startswith(TRANSACTIONAL_PREFIXES):
            # Nested only under a test's transaction: then the scope restores the setting.
            nested = connection.in_atomic_block
            with transaction.atomic(), context.activation_scope(restore_database=nested):
                response = self.get_response(request)
                _rollback_on_server_error(response)
                return response
        return self.get_response(request)

    def _tenant_request(self, request: HttpRequest, slug: str) -> HttpResponse:
        # Organizations are not tenant-owned: found before the request's transaction, so
        # that tenant_context opens it as the outermost one (no setting to read or restore).
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise Http404("No such organization")
        with context.tenant_context(organization, user_id=request.user.pk):
            membership = Membership.objects.filter(user=request.user).first()
            if membership is None:
                raise Http404("No such organization")
            membership.organization = organization
            if mfa.mfa_required(membership.role) and not mfa.session_verified(request):
                # The password alone does not open an admin's or a manager's organization.
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('mfa_verify')}?{query}")
            request.organization = organization
            request.membership = membership
            response = self.get_response(request)
            _rollback_on_server_error(response)
            return response


def _rollback_on_server_error(response: HttpResponse) -> None:
    if response.status_code >= 500:
        transaction.set_rollback(True)
