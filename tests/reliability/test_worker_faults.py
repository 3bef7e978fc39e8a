"""D7 to D10: the nightly metrics recompute under worker faults, with real Celery processes.

Real ``celery worker`` / ``celery beat`` subprocesses (tests/reliability/celery_launch.py)
against the real Redis broker and the test database (committed rows: ``transactional_db``).
Each test gets its own queue name, beat leader key and probe key, and its processes are
killed (process group, SIGKILL) in teardown whatever happened.

- D7: ``kill -9`` of the pool child mid-recompute → the message is requeued
  (``acks_late`` + ``reject_on_worker_lost``), the task re-runs, the snapshot equals a clean run.
- D8: ``kill -9`` of the whole worker → restarted with the test transport options
  (visibility 10 s, restore interval 2 s, throttle 1) it gets the message back.
- D9: the same recompute on two workers at once → the second waits on the organization's
  advisory lock; identical rows, no duplicates.
- D10: two beats for 3 ticks → 3 executions (leadtrack/beat.py's leader lock), not 6.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import psycopg2
import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from leadtrack.celery import app as celery_app
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from reports.models import MetricSnapshot, SnapshotRun
from reports.services import SNAPSHOT_LOCK_NAMESPACE, snapshot_recompute
from tests.reports.test_snapshots import snapshot_hash

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RECOMPUTE = "reports.snapshot_recompute"
# Enough leads that the recompute's INSERT … SELECT runs long enough to be caught mid-way.
LEADS = 20_000
# docs/reliability.md §1.7: without these the killed worker's message waits ~100 s or an hour.
FAST_RESTORE = {"visibility_timeout": 10, "unacked_restore_interval": 2, "unacked_restore_throttle": 1}


def wait_for(condition, *, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Processes:
    """Celery subprocesses of one test: each in its own session so a kill takes its children."""

    def __init__(self, tmp_path: Path, queue: str, leader_key: str) -> None:
        self.tmp_path, self.queue, self.leader_key = tmp_path, queue, leader_key
        self.started: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}

    def _env(self, conf: dict) -> dict[str, str]:
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return {
            **os.environ,
            "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "BEAT_LEADER_KEY": self.leader_key,
            "LT_CELERY_CONF": json.dumps(conf),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }

    def _start(self, name: str, args: list[str], conf: dict) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        self.logs[name] = log
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.celery_launch", *args],
                cwd=ROOT,
                env=self._env(conf),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def worker(self, name: str, conf: dict | None = None) -> subprocess.Popen:
        process = self._start(
            name,
            [
                "worker",
                *("-Q", self.queue, "-c", "1", "-P", "prefork", "-n", f"{name}@%h", "-l", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            conf or {},
        )
        wait_for(lambda: "ready." in self.log(name), timeout=45, what=f"worker {name} ready")
        return process

    def beat(self, name: str, conf: dict) -> subprocess.Popen:
        schedule = self.tmp_path / f"{name}-schedule"
        return self._start(name, ["beat", "-l", "INFO", "-s", str(schedule), "--pidfile="], conf)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


@pytest.fixture
def broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@pytest.fixture
def procs(transactional_db, tmp_path, broker):
    """Processes on a queue of their own; killed, and their Redis keys removed, in teardown."""
    token = uuid.uuid4().hex[:12]
    queue = f"lt-test-faults-{token}"
    processes = Processes(tmp_path, queue, leader_key=f"lt-test-beat-leader-{token}")
    celery_app.conf.task_always_eager = False
    try:
        yield processes
    finally:
        celery_app.conf.task_always_eager = True
        processes.kill_all()
        for name, log in processes.logs.items():
            print(f"\n----- {name} (last lines) -----\n" + "\n".join(log.read_text().splitlines()[-15:]))
        # Messages a failed test left unacknowledged would otherwise be restored later.
        for tag, payload in broker.hgetall("unacked").items():
            if queue.encode() in payload:
                broker.hdel("unacked", tag)
                broker.zrem("unacked_index", tag)
        broker.delete(queue, processes.leader_key, f"{processes.leader_key}:probe")


def seed_organization() -> tuple[Organization, tuple[int, str]]:
    """A large organization and the hash of a clean recompute; its snapshot rows are then
    removed, so a run that was killed and never re-ran shows as a mismatch."""
    call_command("generate_leads", "--org", "faults", "--leads", str(LEADS), "--seed", "7")
    org = Organization.objects.get(slug="faults")
    with tenant_context(org):
        snapshot_recompute(org=org)
    clean = snapshot_hash(org)
    assert clean[0] > 0
    with tenant_context(org):
        MetricSnapshot.objects.all().delete()
        SnapshotRun.objects.all().delete()
    return org, clean


def send_recompute(org: Organization, queue: str):
    return celery_app.send_task(RECOMPUTE, kwargs={"organization_id": org.pk}, queue=queue)


@pytest.fixture
def monitor(transactional_db):
    """A connection as the login role: the app role may not read other sessions' queries."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def recompute_insert_running(monitor) -> bool:
    """A worker's backend is inside the recompute's INSERT … SELECT (past the DELETE)."""
    with monitor.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
            " AND query LIKE 'INSERT INTO reports_metricsnapshot%'"
        )
        return cursor.fetchone()[0] > 0


def received(log: str, task_id: str) -> int:
    return log.count(f"Task {RECOMPUTE}[{task_id}] received")


def test_d7_killing_the_pool_child_mid_recompute_reruns_it(procs, monitor):
    org, clean = seed_organization()
    worker = procs.worker("w1")
    result = send_recompute(org, procs.queue)
    wait_for(lambda: recompute_insert_running(monitor), timeout=60, what="the recompute's INSERT", every=0.02)
    children = psutil.Process(worker.pid).children()
    assert len(children) == 1
    os.kill(children[0].pid, signal.SIGKILL)

    result.get(timeout=90)
    log = procs.log("w1")
    runs = received(log, result.id)
    mismatches = int(snapshot_hash(org) != clean)
    print(f"\n[D7] runs={runs} hash mismatches={mismatches}")
    assert "WorkerLostError" in log
    assert runs == 2
    assert mismatches == 0
    with tenant_context(org):
        # The killed attempt's run row rolled back with its work.
        assert list(SnapshotRun.objects.values_list("status", flat=True)) == ["done"]


def test_d8_killing_the_whole_worker_redelivers_after_the_visibility_timeout(procs, monitor):
    org, clean = seed_organization()
    conf = {"broker_transport_options": FAST_RESTORE}
    first = procs.worker("w1", conf)
    result = send_recompute(org, procs.queue)
    wait_for(lambda: recompute_insert_running(monitor), timeout=60, what="the recompute's INSERT", every=0.02)
    procs.kill(first)  # parent and pool child: nobody is left to requeue the message
    killed_at = time.monotonic()
    assert received(procs.log("w1"), result.id) == 1

    procs.worker("w2", conf)
    wait_for(lambda: received(procs.log("w2"), result.id), timeout=30, what="redelivery", every=0.1)
    seconds = time.monotonic() - killed_at
    result.get(timeout=90)
    mismatches = int(snapshot_hash(org) != clean)
    print(f"\n[D8] seconds to redelivery={seconds:.1f} hash mismatches={mismatches}")
    assert mismatches == 0


def test_d9_the_same_recompute_on_two_workers_at_once_gives_one_result(procs, monitor):
    org, clean = seed_organization()
    procs.worker("w1")
    procs.worker("w2")
    results = [send_recompute(org, procs.queue), send_recompute(org, procs.queue)]

    def second_waits_on_the_lock() -> bool:
        with monitor.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = %s AND objid = %s",
                [SNAPSHOT_LOCK_NAMESPACE, org.pk],
            )
            return cursor.fetchone()[0] > 0

    wait_for(second_waits_on_the_lock, timeout=60, what="the second recompute to wait on the lock")
    for result in results:
        result.get(timeout=90)
    with tenant_context(org):
        duplicates = sum(
            row["n"] - 1
            for row in MetricSnapshot.objects.values("grain", "dimension", "dimension_value", "period_start")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        runs = list(SnapshotRun.objects.values_list("status", flat=True))
    mismatches = int(snapshot_hash(org) != clean)
    print(f"\n[D9] recomputes=2 duplicates={duplicates} hash mismatches={mismatches}")
    # One task on each worker: they really ran side by side.
    assert [received(procs.log(name), result.id) for name in ("w1", "w2") for result in results].count(1) == 2
    assert all(received(procs.log("w1"), r.id) + received(procs.log("w2"), r.id) == 1 for r in results)
    assert duplicates == 0
    assert mismatches == 0
    assert runs == ["done", "done"]


def test_d10_two_beats_send_each_tick_once(procs, broker):
    ticks, every = 3, 2.0
    probe_key = f"{procs.leader_key}:probe"
    procs.worker("w1")
    start = time.time() + 15  # both beats are up before the first tick
    conf = {
        "beat_schedule": {
            "fault-probe": {
                "task": "tests.reliability.beat_probe",
                "schedule": {"finite_ticks": {"start": start, "every": every, "count": ticks}},
                "kwargs": {"key": probe_key},
                "options": {"queue": procs.queue},
            }
        }
    }
    procs.beat("beat1", conf)
    procs.beat("beat2", conf)
    for name in ("beat1", "beat2"):
        wait_for(lambda name=name: "beat: Starting" in procs.log(name), timeout=30, what=f"{name} up")
    assert time.time() < start, "the beats started after the first tick; the count would be short"

    def decisions(name: str) -> int:
        log = procs.log(name)
        return log.count("Sending due task fault-probe") + log.count("not sending fault-probe")

    # Every beat has decided about every tick: sent it, or left it to the leader.
    wait_for(lambda: all(decisions(n) == ticks for n in ("beat1", "beat2")), timeout=40, what="3 ticks")
    sent = sum(procs.log(n).count("Sending due task fault-probe") for n in ("beat1", "beat2"))
    wait_for(lambda: broker.llen(probe_key) >= sent, timeout=30, what="the worker to run what was sent")
    executions = broker.llen(probe_key)
    print(f"\n[D10] beats=2 ticks={ticks} executions={executions}")
    assert executions == ticks
