"""D15: backup and restore drill on the test database, with the PostgreSQL binaries pgserver ships.

What it shows (docs/reliability.md §1.6 row D, §1.8):
- a dump as the application role fails loudly (RLS), and so does one as the tables' owner,
  because every tenant table has FORCE ROW LEVEL SECURITY: backups need a role with BYPASSRLS;
- ``--enable-row-security`` "succeeds" with the tenant tables empty: the drill's comparison is
  what catches that silent loss;
- a dump as a backup role (NOSUPERUSER, BYPASSRLS, pg_read_all_data) restored by the owner into
  a scratch database has the same rows (count and checksum per table) and the same security
  catalog (RLS enabled and forced, policies, grants, composite foreign keys).

The two owner checks need an owner that is not a superuser (a superuser bypasses RLS, forced or
not). That is the deployed setup and the embedded server's; where DATABASE_URL logs in as a
superuser (a developer's local PostgreSQL), the drill restores the backup once more, as a
dedicated non-superuser role that then owns the copy, and runs the owner checks on that copy.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import ActivityKind
from leads.services import activity_log
from leadtrack import embedded
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

BACKUP_ROLE = "leadtrack_backup"
# Owns the drill's copy when the login role is a superuser: like a deployment's owner, no bypass.
DRILL_OWNER_ROLE = "leadtrack_drill_owner"
pytestmark = pytest.mark.slow


def _pg_bin(name: str) -> str:
    return str(embedded._pg_bin_path() / name)


def _params(dbname: str | None = None, user: str | None = None) -> dict:
    db = connection.settings_dict
    params = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": user or db["USER"],
        "dbname": dbname or db["NAME"],
    }
    if db.get("PASSWORD") and user is None:
        params["password"] = db["PASSWORD"]
    return params


def _cli(params: dict) -> list[str]:
    return ["-h", str(params["host"]), "-p", str(params["port"]), "-U", params["user"]]


def _run(args: list[str], params: dict) -> subprocess.CompletedProcess:
    env = {"PGPASSWORD": params.get("password", ""), "PATH": "/usr/bin:/bin"}
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)


@contextlib.contextmanager
def _connect(**params):
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def _ensure_backup_role() -> None:
    """The role backups run as; creating it takes a superuser (skip where there is none)."""
    try:
        superuser = psycopg2.connect(**_params(dbname="postgres", user="postgres"))
    except psycopg2.Error as exc:
        pytest.skip(f"no superuser to create the {BACKUP_ROLE} role (BYPASSRLS) here: {exc}")
    superuser.autocommit = True
    with superuser.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BACKUP_ROLE])
        if not cursor.fetchone():
            cursor.execute(f"CREATE ROLE {BACKUP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS")
        cursor.execute(f"GRANT pg_read_all_data TO {BACKUP_ROLE}")
    superuser.close()


def _login_is_superuser() -> bool:
    with _connect(**_params(dbname="postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return cursor.fetchone()[0]


def _ensure_drill_owner_role() -> dict:
    """A login role like a deployment's owner (no SUPERUSER, no BYPASSRLS); created by the
    superuser login. Its connection parameters."""
    with _connect(**_params(dbname="postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [DRILL_OWNER_ROLE])
        if not cursor.fetchone():
            cursor.execute(
                f"CREATE ROLE {DRILL_OWNER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            )
    return _params(user=DRILL_OWNER_ROLE)


def _tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
        "AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    return [name for (name,) in cursor.fetchall()]


def _snapshot(dbname: str) -> dict:
    """Per-table row count and checksum, and the security catalog, read with RLS bypassed."""
    with _connect(**_params(dbname=dbname, user=BACKUP_ROLE)) as conn, conn.cursor() as cursor:
        data = {}
        for table in _tables(cursor):
            cursor.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            )
            data[table] = cursor.fetchone()
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity, relacl::text FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1"
        )
        rls = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' ORDER BY 1, 2"
        )
        policies = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        )
        constraints = cursor.fetchall()
    return {"data": data, "rls": rls, "policies": policies, "constraints": constraints}


def _mismatches(a: dict, b: dict) -> list[str]:
    found = [
        f"data {t}: {a['data'][t]} != {b['data'].get(t)}"
        for t in a["data"]
        if a["data"][t] != b["data"].get(t)
    ]
    found += [f"{part} differs" for part in ("rls", "policies", "constraints") if a[part] != b[part]]
    return found


def _seed(org, other_org, alice, charlie) -> None:
    for n in range(20):
        lead = make_lead(org, actor=alice, company=f"Backup {n}", email=f"b{n}@backup.example", owner=alice)
        with tenant_context(org):
            activity_log(org=org, actor=alice, lead_id=lead.pk, kind=ActivityKind.CALL, subject="call")
            if n % 2:
                stage_move(org=org, actor=alice, lead_id=lead.pk, to_stage=Stage.MQL)
    for n in range(10):
        make_lead(other_org, actor=charlie, company=f"Globex {n}", email=f"g{n}@globex.example")


@contextlib.contextmanager
def _scratch_database(name: str, owner_role: str | None = None):
    owner = _params(dbname="postgres")
    with _connect(**owner) as conn, conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner_role}"' if owner_role else ""))
    try:
        yield name
    finally:
        # Without FORCE: every connection the drill opened here is closed, but a closed
        # connection's backend can still be exiting, and FORCE refuses to terminate a backend of
        # a role the login holds no privileges of (the backup role's), where a plain DROP waits
        # up to 5 s for it to go.
        with _connect(**owner) as conn, conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_backup_and_restore_drill(transactional_db, tmp_path: Path, org, other_org, alice, charlie):
    _ensure_backup_role()
    _seed(org, other_org, alice, charlie)
    source = connection.settings_dict["NAME"]
    owner = _params()
    pg_dump, pg_restore = _pg_bin("pg_dump"), _pg_bin("pg_restore")

    role = ["--role", settings.DATABASE_APP_ROLE]
    as_app = _run([pg_dump, *_cli(owner), *role, "-Fc", "-f", str(tmp_path / "app.dump"), source], owner)
    assert as_app.returncode != 0 and "row-level security" in as_app.stderr, as_app.stderr

    backup = _params(user=BACKUP_ROLE)
    dump = tmp_path / "backup.dump"
    started = time.monotonic()
    dumped = _run([pg_dump, *_cli(backup), "-Fc", "-f", str(dump), source], backup)
    dump_seconds = time.monotonic() - started
    assert dumped.returncode == 0, dumped.stderr

    before = _snapshot(source)
    with _scratch_database(f"{source}_restore") as scratch:
        started = time.monotonic()
        restored = _run([pg_restore, *_cli(owner), "--exit-on-error", "-d", scratch, str(dump)], owner)
        restore_seconds = time.monotonic() - started
        assert restored.returncode == 0, restored.stderr
        after = _snapshot(scratch)
    mismatches = _mismatches(before, after)

    with contextlib.ExitStack() as stack:
        if _login_is_superuser():
            # A superuser bypasses even forced RLS: the owner checks run on a copy owned by a
            # role that is not one, restored from the backup just verified.
            table_owner = _ensure_drill_owner_role()
            checked = stack.enter_context(_scratch_database(f"{source}_owned", DRILL_OWNER_ROLE))
            owned = _run(
                [pg_restore, *_cli(table_owner), "--no-owner", "--exit-on-error", "-d", checked, str(dump)],
                table_owner,
            )
            assert owned.returncode == 0, owned.stderr
            owner_note = f"{DRILL_OWNER_ROLE}(login is superuser)"
        else:
            table_owner, checked, owner_note = owner, source, "login"
        as_owner = _run(
            [pg_dump, *_cli(table_owner), "-Fc", "-f", str(tmp_path / "owner.dump"), checked], table_owner
        )
        assert as_owner.returncode != 0 and "row-level security" in as_owner.stderr, as_owner.stderr

        # The trap: a dump that "succeeds" while reading through RLS with no tenant set.
        silent = tmp_path / "silent.dump"
        through_rls = [
            pg_dump,
            *_cli(table_owner),
            "--enable-row-security",
            "-Fc",
            "-f",
            str(silent),
            checked,
        ]
        assert _run(through_rls, table_owner).returncode == 0
        with _scratch_database(f"{source}_silent") as scratch:
            _run([pg_restore, *_cli(owner), "-d", scratch, str(silent)], owner)
            caught = len([m for m in _mismatches(before, _snapshot(scratch)) if m.startswith("data")])

    rows = sum(count for count, _ in before["data"].values())
    print(
        f"\n[D15] dump_bytes={dump.stat().st_size} dump_s={dump_seconds:.2f} restore_s={restore_seconds:.2f} "
        f"tables={len(before['data'])} rows={rows} policies={len(before['policies'])} "
        f"mismatches={len(mismatches)} app_role_dump=refused owner_dump=refused(FORCE RLS) "
        f"owner={owner_note} "
        f"enable_row_security_dump_tables_lost={caught} (caught)"
    )
    assert mismatches == []
    assert caught > 0
    with_policy = {policy[0] for policy in before["policies"]}
    assert all(enabled and forced for name, enabled, forced, _ in before["rls"] if name in with_policy)
