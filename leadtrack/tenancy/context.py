"""The active organization: one ContextVar for the ORM, one GUC for PostgreSQL.

Both are set together and only here. The ORM side makes a forgotten filter
fail closed (TenantManager raises without an organization); the database side
(row-level security keyed on ``app.organization_id``) returns no rows when the
setting is absent. The setting is transaction-local (``set_config(..., true)``),
so a pooled or persistent connection never carries it into the next request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.db import connection, transaction

if TYPE_CHECKING:
    from leadtrack.tenancy.models import Organization

ORG_SETTING = "app.organization_id"
USER_SETTING = "app.user_id"

_current_organization: ContextVar[Organization | None] = ContextVar("current_organization", default=None)


class TenantNotActiveError(RuntimeError):
    """A tenant-owned model was queried with no organization active."""


def current_organization() -> Organization:
    organization = _current_organization.get()
    if organization is None:
        raise TenantNotActiveError(
            "No organization is active. Wrap the code in tenant_context(organization) or use "
            "Model.unscoped explicitly (operator commands only)."
        )
    return organization


def current_organization_or_none() -> Organization | None:
    return _current_organization.get()


def _read_db_context() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), current_setting(%s, true)", [ORG_SETTING, USER_SETTING]
        )
        org_value, user_value = cursor.fetchone()
    return org_value or "", user_value or ""


def _write_db_context(org_value: str, user_value: str) -> None:
    with connection.cursor() as cursor:
        # `true`: transaction-local, the equivalent of SET LOCAL. Never plain SET.
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
            [ORG_SETTING, org_value, USER_SETTING, user_value],
        )


def set_db_user(user_id: int | None) -> None:
    """Let the membership policy show the user their own memberships (org switcher)."""
    if not connection.in_atomic_block:
        raise RuntimeError("set_db_user needs a transaction: the setting is transaction-local")
    org_value, _ = _read_db_context()
    _write_db_context(org_value, str(user_id) if user_id else "")


@contextlib.contextmanager
def tenant_context(organization: Organization, *, user_id: int | None = None) -> Iterator[Organization]:
    """Run the block as ``organization``, in a transaction (a savepoint when nested).

    On a clean exit the previous organization (if any) is restored, both in the
    ContextVar and in the database setting; on an exception the rollback of
    the block undoes the setting. As the outermost transaction (every request and
    task), there is nothing to read or restore: the setting ends with the transaction.
    """
    nested = connection.in_atomic_block
    with transaction.atomic():
        previous = _read_db_context() if nested else ("", "")
        token = _current_organization.set(organization)
        try:
            _write_db_context(str(organization.pk), str(user_id) if user_id else previous[1])
            yield organization
        except BaseException:
            _current_organization.reset(token)
            raise
        else:
            _current_organization.reset(token)
            # A block marked for rollback undoes the setting itself when it exits.
            if nested and not transaction.get_rollback():
                _write_db_context(*previous)


@contextlib.contextmanager
def no_tenant() -> Iterator[None]:
    """Run the block with no organization active (tests of fail-closed behaviour)."""
    token = _current_organization.set(None)
    try:
        yield
    finally:
        _current_organization.reset(token)


class _ActivationScope:
    def __init__(self, previous_db_context: tuple[str, str] | None):
        self.previous_db_context = previous_db_context


_activation_scope: ContextVar[_ActivationScope | None] = ContextVar("activation_scope", default=None)


@contextlib.contextmanager
def activation_scope(*, restore_database: bool = False) -> Iterator[None]:
    """The span of one API request, inside its transaction: ``activate()`` may be called once
    the credentials are known, and the organization is gone again when the block ends.

    The ContextVar is always reset. The database setting dies with the transaction; only
    when that transaction is not the request's own (tests wrap everything in one) is
    the previous setting read first and written back (``restore_database``).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("activation_scope needs a transaction: the setting is transaction-local")
    scope = _ActivationScope(_read_db_context() if restore_database else None)
    token = _current_organization.set(None)
    scope_token = _activation_scope.set(scope)
    try:
        yield
    except BaseException:
        # The failed block's rollback undoes the setting; the transaction may be unusable.
        _current_organization.reset(token)
        _activation_scope.reset(scope_token)
        raise
    activated = _current_organization.get() is not None
    _current_organization.reset(token)
    _activation_scope.reset(scope_token)
    if activated and scope.previous_db_context is not None and not transaction.get_rollback():
        _write_db_context(*scope.previous_db_context)


def activate(organization: Organization, *, user_id: int | None = None) -> None:
    """Make ``organization`` active for the rest of the enclosing ``activation_scope``.

    For requests that learn their organization mid-way (an API key, an
    ``X-Organization`` header): no with-block to close, the scope undoes it.
    """
    if _activation_scope.get() is None or not connection.in_atomic_block:
        raise RuntimeError("activate() runs only inside activation_scope() (an /api/ request)")
    _write_db_context(str(organization.pk), str(user_id) if user_id else "")
    _current_organization.set(organization)
