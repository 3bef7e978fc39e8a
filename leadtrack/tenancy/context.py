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
    the block undoes the setting.
    """
    with transaction.atomic():
        previous = _read_db_context()
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
            if not transaction.get_rollback():
                _write_db_context(*previous)


@contextlib.contextmanager
def no_tenant() -> Iterator[None]:
    """Run the block with no organization active (tests of fail-closed behaviour)."""
    token = _current_organization.set(None)
    try:
        yield
    finally:
        _current_organization.reset(token)
