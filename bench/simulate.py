"""Simulation for docs/scaling.md: the nightly recompute fanned out over many organizations.

    python -m bench.simulate --orgs 1000 --leads 10000 --workers 1,2       # the documented run
    python -m bench.simulate --orgs 50 --leads 2000 --workers 1,2          # a small one

Generates the organizations with generate_leads (COPY) in a database of its own
(BENCH_SIM_DATABASE, default leadtrack_bench_sim; kept between runs of the same size),
then for each worker count starts a Celery worker with that many processes and times one
fan-out: one task per organization, from the first enqueue to the last result.
The task is the metrics engine's recompute OrgTask when it exists (reports.tasks), else the
stand-in raw per-tenant GROUP BY of bench/fanout.py (``--stand-in`` forces it); the output says which.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.parse

from bench.run import PY, ROOT, Processes, _connect, _manage, redis_url
from bench.sql import SUMMARY_DDL, SUMMARY_TABLE


def database_url(name: str) -> str:
    from leadtrack import embedded

    base = (
        os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or embedded.ensure_postgres()
    )
    return urllib.parse.urlsplit(base)._replace(path=f"/{name}").geturl()


def prepare(url: str, env: dict, *, orgs: int, leads: int, seed: int) -> float | None:
    """Create and fill the database unless it already holds this size; returns generation seconds."""
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    spec = {"orgs": orgs, "leads": leads, "seed": seed}
    with contextlib.closing(_connect(url, dbname="postgres")) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            with contextlib.closing(_connect(url)) as conn, conn.cursor() as c:
                c.execute("SELECT to_regclass('bench_dataset') IS NOT NULL")
                if c.fetchone()[0]:
                    c.execute("SELECT spec FROM bench_dataset")
                    row = c.fetchone()
                    if row and row[0] == spec:
                        print(f"reusing {name} ({spec})")
                        return None
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    _manage(env, "migrate", "--noinput", quiet=True)
    started = time.monotonic()
    _manage(
        env,
        "generate_leads",
        *("--org", "sim-0000", "--leads", str(leads), "--activities", "0", "--seed", str(seed)),
        *("--small-orgs", str(orgs - 1), "--small-prefix", "sim-", "--small-leads", str(leads)),
        *("--small-activities", "0", "--members", "2"),
    )
    seconds = time.monotonic() - started
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(SUMMARY_DDL)
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SUMMARY_TABLE} TO leadtrack_app")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (spec jsonb, generated_seconds float)")
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s)", [json.dumps(spec), seconds])
    return seconds


def fan_out_with(env: dict, *, workers: int, stand_in: bool, timeout: float) -> dict:
    processes = Processes()
    log = ROOT / "var" / "bench-logs"
    log.mkdir(parents=True, exist_ok=True)
    try:
        processes.start(
            [
                *(PY, "-m", "celery", "-A", "bench.fanout", "worker", "-Q", "bench", "-c", str(workers)),
                *("--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            env,
            log / f"sim-worker-{workers}.log",
        )
        time.sleep(3)
        code = (
            "import json, bench.fanout as f; "
            f"print(json.dumps(f.fan_out(use_product={not stand_in}, timeout={timeout})))"
        )
        completed = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(completed.stderr[-500:])
        return json.loads(completed.stdout.strip().splitlines()[-1])
    finally:
        processes.stop_all()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker process counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--stand-in", action="store_true", help="time the raw GROUP BY task, not the product's"
    )
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    url = database_url(os.environ.get("BENCH_SIM_DATABASE", "leadtrack_bench_sim"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": "bench-sim",
    }
    generated = prepare(url, env, orgs=args.orgs, leads=args.leads, seed=args.seed)
    results = []
    stand_in = args.stand_in
    for workers in (int(w) for w in args.workers.split(",")):
        try:
            result = fan_out_with(env, workers=workers, stand_in=stand_in, timeout=args.timeout)
        except RuntimeError as exc:
            if stand_in:
                raise
            reason = str(exc).strip().splitlines()[-1]
            print(f"the product's recompute task failed ({reason}): using the stand-in")
            stand_in = True
            result = fan_out_with(env, workers=workers, stand_in=stand_in, timeout=args.timeout)
        result["workers"] = workers
        results.append(result)
        print(
            f"{result['organizations']} organizations × {args.leads:,} leads, {workers} worker process(es): "
            f"{result['seconds']:.1f} s with {result['task']} "
            f"({'the product task' if result['product'] else 'stand-in: raw per-tenant GROUP BY'})"
        )
    print(
        json.dumps({"orgs": args.orgs, "leads": args.leads, "generated_seconds": generated, "runs": results})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
