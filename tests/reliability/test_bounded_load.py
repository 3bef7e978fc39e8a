"""R5: bounded load on 127.0.0.1 only, fixed duration, stopping by itself.

The app runs under gunicorn (as in production and in bench/run.py) against the test
database; the organization and its API key are committed first (transactional_db) so
the server processes see them. bench/load.open_loop sends a fixed rate of mixed API
traffic (80 % lead list, 20 % lead create) for a fixed number of seconds, to 127.0.0.1
only, and then stops: it never runs past its schedule. The published rate limits stay on
(600 requests a minute per key is above this load). Pass: no 5xx, no connection errors,
and the generator stopped by itself within its bound. Latencies are figures, not gates.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from bench import load
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from tests.factories import OrganizationFactory, make_lead

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RATE = float(os.environ.get("R5_RATE", "20"))  # requests per second, both cores are shared
SECONDS = float(os.environ.get("R5_SECONDS", "10"))
# The generator's own stop: its schedule ends at SECONDS; every client thread gives up 30 s
# after that (load.open_loop's join). Past this, it did not stop by itself.
STOP_BOUND_SECONDS = SECONDS + 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _wait_healthy(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s")


def test_mixed_api_load_has_no_5xx_and_stops_by_itself(transactional_db, tmp_path):
    org = OrganizationFactory(slug="r5-load", name="R5 Load")
    for index in range(30):
        make_lead(org, company=f"Seed {index}", email=f"seed{index}@seed-r5.example")
    with tenant_context(org):
        _, key = api_key_create(org=org, actor=None, name="r5", scopes=["read", "write"])

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadtrack.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": f"r5-{port}",
        # Tasks a create triggers run inside the request: nothing is left queued in Redis,
        # and a failing task is a 5xx this test sees.
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--graceful-timeout",
            "5",
            "--timeout",
            "60",
            "--bind",
            f"127.0.0.1:{port}",
            "leadtrack.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    headers = {"Authorization": f"Bearer {key}"}
    stamp = time.time_ns()

    def pick(n: int):
        if n % 5 == 4:
            body = json.dumps({"company": f"Load {n}", "email": f"load.{stamp}.{n}@load{n}.example"}).encode()
            return "POST", "/api/v1/leads/", {**headers, "Content-Type": "application/json"}, body
        return "GET", "/api/v1/leads/?page_size=25", headers, None

    try:
        _wait_healthy(f"{base}/healthz", server)
        started = time.monotonic()
        result = load.open_loop(base, rate=RATE, seconds=SECONDS, pick=pick, connections=8)
        wall = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    scheduled = int(RATE * SECONDS)
    server_errors = sum(count for status, count in result.statuses.items() if status >= 500)
    error_rate = (result.non_2xx + result.errors) / scheduled
    print(
        f"\n[R5] rate={RATE:.0f}/s scheduled={scheduled} rps={result.rps:.1f} "
        f"p50={result.p50_ms:.1f}ms p95={result.p95_ms:.1f}ms p99={result.p99_ms:.1f}ms "
        f"error_rate={error_rate:.2%} 5xx={server_errors} statuses={result.statuses} "
        f"duration={wall:.1f}s bound={STOP_BOUND_SECONDS:.0f}s"
    )
    with tenant_context(org):
        from leads.models import Lead

        created = Lead.objects.filter(organization=org, company__startswith="Load ").count()
    assert server_errors == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]
    assert result.errors == 0  # no connection reset or timeout
    assert result.requests == scheduled  # every scheduled request answered, none more
    assert created == result.statuses.get(201, 0)  # the creates the server acknowledged exist
    assert wall <= STOP_BOUND_SECONDS  # it stopped by itself: the schedule ended the run
