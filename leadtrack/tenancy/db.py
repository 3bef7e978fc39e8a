"""PostgreSQL side of tenancy: the application role and row-level security.

Three rules, each a trap seen in other CRMs (docs/reliability.md §1.6):

1. Requests and tasks run as ``settings.DATABASE_APP_ROLE``: not superuser,
   not BYPASSRLS, not the tables' owner. Every new connection switches to it
   with ``SET ROLE``; only migrations and test-database setup keep the login
   role (the owner), inside ``owner_connection()``.
2. Every table of a ``TenantModel`` has RLS enabled *and forced*, with one
   policy keyed on the transaction-local ``app.organization_id``; "no setting"
   means no rows, and ``WITH CHECK`` refuses writes into another tenant.
3. A foreign key between two tenant-owned tables is also a composite key on
   ``(organization_id, <fk>)``: a plain FK check bypasses RLS and would let
   one tenant point at another tenant's row.

The policies, grants and composite keys are (re)applied after every migrate,
so a new tenant-owned model is covered without anyone remembering to. A model
with ``append_only = True`` (the audit trail) gets INSERT and SELECT only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.db import connections, models
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from psycopg2 import sql

from leadtrack.tenancy.context import ORG_SETTING, USER_SETTING

logger = logging.getLogger(__name__)

_OWNER_MODE = False
NO_DB_ALIAS = "__no_db__"
POLICY_NAME = "tenant_isolation"


@contextlib.contextmanager
def owner_connection() -> Iterator[None]:
    """Connect as the login role (the tables' owner): migrations, flush, test setup."""
    global _OWNER_MODE
    previous = _OWNER_MODE
    connections.close_all()
    _OWNER_MODE = True
    try:
        yield
    finally:
        connections.close_all()
        _OWNER_MODE = previous


def _switch_to_app_role(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or _OWNER_MODE or connection.alias == NO_DB_ALIAS:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(settings.DATABASE_APP_ROLE)))


def tenant_models() -> list[type[models.Model]]:
    from leadtrack.tenancy.models import TenantModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy
    ]


def _policy_sql(model: type[models.Model]) -> list[sql.Composable]:
    from leadtrack.tenancy.models import Membership

    table = sql.Identifier(model._meta.db_table)
    current_org = sql.SQL("nullif(current_setting({}, true), '')::bigint").format(sql.Literal(ORG_SETTING))
    using = sql.SQL("organization_id = {}").format(current_org)
    if model is Membership:
        # A person lists their own memberships across organizations (the
        # organization switcher) before any organization is active.
        current_user = sql.SQL("nullif(current_setting({}, true), '')::bigint").format(
            sql.Literal(USER_SETTING)
        )
        using = sql.SQL("({}) OR user_id = {}").format(using, current_user)
    check = sql.SQL("organization_id = {}").format(current_org)
    if model._meta.get_field("organization").null:
        # Pre-tenant rows (the audit trail's sign-ins): the app role may write them with no
        # organization, and USING still shows them to nobody.
        check = sql.SQL("({}) OR organization_id IS NULL").format(check)
    return [
        sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table),
        sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(table),
        sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(POLICY_NAME), table),
        sql.SQL("CREATE POLICY {} ON {} USING ({}) WITH CHECK ({})").format(
            sql.Identifier(POLICY_NAME), table, using, check
        ),
    ]


def _composite_fk_sql(model: type[models.Model]) -> list[sql.Composable]:
    """Composite (organization_id, fk) → (organization_id, id) keys between tenant tables."""
    from leadtrack.tenancy.models import TenantModel

    statements: list[sql.Composable] = []
    for field in model._meta.local_fields:
        target = getattr(field, "related_model", None)
        if not isinstance(field, models.ForeignKey) or field.name == "organization":
            continue
        if not (isinstance(target, type) and issubclass(target, TenantModel)):
            continue
        target_table = target._meta.db_table
        unique_name = f"{target_table}_org_id_uniq"[:63]
        fk_name = f"{model._meta.db_table}_{field.column}_same_org_fk"[:63]
        rule = field.remote_field.on_delete
        if rule is models.CASCADE:
            on_delete = sql.SQL("CASCADE")
        elif rule is models.SET_NULL:
            on_delete = sql.SQL("SET NULL ({})").format(sql.Identifier(field.column))
        else:
            on_delete = sql.SQL("NO ACTION")
        statements += [
            sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = {name}) THEN "
                "ALTER TABLE {table} ADD CONSTRAINT {ident} UNIQUE (organization_id, id); END IF; END $$"
            ).format(
                name=sql.Literal(unique_name),
                table=sql.Identifier(target_table),
                ident=sql.Identifier(unique_name),
            ),
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(model._meta.db_table), sql.Identifier(fk_name)
            ),
            sql.SQL(
                "ALTER TABLE {table} ADD CONSTRAINT {fk} FOREIGN KEY (organization_id, {column}) "
                "REFERENCES {target} (organization_id, id) ON DELETE {on_delete} "
                "DEFERRABLE INITIALLY DEFERRED"
            ).format(
                table=sql.Identifier(model._meta.db_table),
                fk=sql.Identifier(fk_name),
                column=sql.Identifier(field.column),
                target=sql.Identifier(target_table),
                on_delete=on_delete,
            ),
        ]
    return statements


def install_database_security(using: str = "default") -> None:
    """Grants for the app role, RLS policies and composite keys; idempotent."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RuntimeError("LeadTrack runs on PostgreSQL only")
    role = sql.Identifier(settings.DATABASE_APP_ROLE)
    statements: list[sql.Composable] = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
    ]
    for model in tenant_models():
        statements += _policy_sql(model)
        statements += _composite_fk_sql(model)
        if getattr(model, "append_only", False):
            # After the blanket GRANT above, which would otherwise give them back on every migrate:
            # the app role cannot rewrite or remove history (ASVS 16.4.2).
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(model._meta.db_table), role
                )
            )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _after_migrate(sender, using: str = "default", **kwargs) -> None:
    # post_migrate fires once per app, after all migrations ran; install once.
    if sender.label != "tenancy":
        return
    install_database_security(using)


def ensure_app_role(using: str = "default") -> None:
    """Create the application role when the login role may (external DATABASE_URL)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.DATABASE_APP_ROLE])
        if cursor.fetchone():
            cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [settings.DATABASE_APP_ROLE])
            if cursor.fetchone()[0]:
                return
        cursor.execute(
            sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {lit}) THEN "
                "CREATE ROLE {ident} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT; END IF; END $$"
            ).format(
                lit=sql.Literal(settings.DATABASE_APP_ROLE), ident=sql.Identifier(settings.DATABASE_APP_ROLE)
            )
        )
        cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(settings.DATABASE_APP_ROLE)))


def connect_signals() -> None:
    connection_created.connect(_switch_to_app_role, dispatch_uid="leadtrack_app_role")
    post_migrate.connect(_after_migrate, dispatch_uid="leadtrack_database_security")
