"""Who is calling, for which organization: API keys (Bearer) and browser sessions.

Both classes end the same way: the organization is activated for the rest of
the request (``tenancy.context.activate``: ORM scope and the RLS setting, inside
the transaction TenantMiddleware opened for /api/), and ``request.auth`` is an
``ApiAccess`` the permission class, throttles and views read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from leadtrack.accounts import mfa
from leadtrack.accounts.models import User
from leadtrack.api.models import ApiKey, Scope
from leadtrack.api.selectors import api_key_for_token
from leadtrack.api.services import api_key_touch
from leadtrack.audit import context as request_context
from leadtrack.tenancy import context
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role, role_can

ORGANIZATION_HEADER = "HTTP_X_ORGANIZATION"


@dataclass(frozen=True)
class ApiAccess:
    """What a request may do: its organization, a membership for the selectors, the scopes.

    ``actor`` is the person for audit trails (None for an API key: writes are
    recorded with via=api). ``membership`` of a key is a stand-in with the role
    its scopes amount to, never saved.
    """

    organization: Organization
    membership: Membership
    actor: User | None
    scopes: frozenset[str]
    api_key: ApiKey | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    @property
    def principal_id(self) -> str:
        return f"key:{self.api_key.pk}" if self.api_key else f"user:{self.actor.pk}"


class ApiKeyPrincipal:
    """``request.user`` for a key: authenticated, but nobody in particular."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key

    def __str__(self) -> str:
        return f"API key {self.key}"


def _key_role(scopes: frozenset[str]) -> str:
    if Scope.ADMIN in scopes or Scope.WRITE in scopes:
        return Role.MANAGER
    return Role.VIEWER


def _session_scopes(role: str) -> frozenset[str]:
    scopes = {Scope.READ} if role_can(role, "leads.view") else set()
    if role_can(role, "leads.edit"):
        scopes.add(Scope.WRITE)
    if role_can(role, "leads.import"):
        scopes.add(Scope.IMPORT)
    if role == Role.ADMIN:
        scopes.add(Scope.ADMIN)
    return frozenset(scopes)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer lt_<prefix>_<secret>``. A wrong, revoked or malformed key → 401."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer <key>.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        key = api_key_for_token(token=token)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        scopes = frozenset(key.scopes)
        organization = key.organization
        context.activate(organization)
        request_context.bind(api_key_id=key.pk)
        api_key_touch(key=key)
        membership = Membership(organization=organization, user=None, role=_key_role(scopes))
        access = ApiAccess(organization, membership, None, scopes, key)
        return ApiKeyPrincipal(key), access

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def _requested_slug(request: HttpRequest) -> str:
    return (request.META.get(ORGANIZATION_HEADER) or request.GET.get("org") or "").strip()


class OrgSessionAuthentication(SessionAuthentication):
    """A signed-in person (the browser): the organization comes from ``X-Organization: <slug>``
    or ``?org=<slug>``; a person who is not a member gets 404, as in the app."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        slug = _requested_slug(request)
        if not slug:
            raise exceptions.NotFound("Say which organization: X-Organization: <slug> header or ?org=<slug>.")
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise exceptions.NotFound("No such organization.")
        context.activate(organization, user_id=user.pk)
        request_context.bind(user_id=user.pk)
        membership = Membership.objects.filter(organization=organization, user=user).first()
        if membership is None:
            raise exceptions.NotFound("No such organization.")
        if mfa.mfa_required(membership.role) and not mfa.session_verified(request._request):
            raise exceptions.PermissionDenied("Two-step verification is required: verify this session first.")
        return user, ApiAccess(organization, membership, user, _session_scopes(membership.role))


class ApiKeySchema(OpenApiAuthenticationExtension):
    target_class = "leadtrack.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer lt_<prefix>_<secret>`.",
        }


class OrgSessionSchema(OpenApiAuthenticationExtension):
    target_class = "leadtrack.api.authentication.OrgSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
