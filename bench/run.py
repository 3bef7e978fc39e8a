"""`make bench`: the product beside the references kept here, measured in one run.

Prints a Markdown table (path, measure, product, reference, ratio, goal, met?)
and writes bench/results.json and bench/results.md. Never asserts: a path the
product does not have yet is reported as "not available" with the reason.
Sizes and durations come from BENCH_* variables (bench/README.md); the
defaults are the real run (1M-lead organization beside 99 small ones).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import psycopg2

from bench import load
from bench.sql import (
    RECOMPUTE_ALL,
    RECOMPUTE_ONE,
    SNAPSHOT_REFERENCE_ALL,
    SNAPSHOT_REFERENCE_DDL,
    SNAPSHOT_REFERENCE_ONE,
    SUMMARY_DDL,
    SUMMARY_TABLE,
)
from bench.tracking import measure_tracking

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
PY = sys.executable
BIG, MID, CREATE, SMALL_PREFIX = "bench-big", "bench-mid", "bench-create", "bench-small-"
SMALL = f"{SMALL_PREFIX}001"
NOT_AVAILABLE = "not available"
# Where the metrics engine's funnel dashboard may live under /o/<org>/, first match wins.
DASHBOARD_PATHS = ("dashboards/", "reports/", "dashboard/")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Config:
    leads: int = _env_int("BENCH_LEADS", 1_000_000)
    activities: int = _env_int("BENCH_ACTIVITIES", 5_000_000)
    mid_leads: int = _env_int("BENCH_MID_LEADS", 100_000)
    mid_activities: int = _env_int("BENCH_MID_ACTIVITIES", 500_000)
    small_orgs: int = _env_int("BENCH_SMALL_ORGS", 99)
    small_leads: int = _env_int("BENCH_SMALL_LEADS", 10_000)
    small_activities: int = _env_int("BENCH_SMALL_ACTIVITIES", 30_000)
    seed: int = _env_int("BENCH_SEED", 1)
    workers: int = _env_int("BENCH_WORKERS", 4)
    celery_concurrency: int = _env_int("BENCH_CELERY_CONCURRENCY", 2)
    runs: int = _env_int("BENCH_RUNS", 3)
    seconds: float = _env_float("BENCH_SECONDS", 10)
    latency_seconds: float = _env_float("BENCH_LATENCY_SECONDS", 5)
    warmup_seconds: float = _env_float("BENCH_WARMUP_SECONDS", 2)
    import_rows: int = _env_int("BENCH_IMPORT_ROWS", 100_000)
    mixed_rate: float = _env_float("BENCH_MIXED_RATE", 190)
    mixed_seconds: float = _env_float("BENCH_MIXED_SECONDS", 10)
    port: int = _env_int("BENCH_PORT", 18100)
    database: str = os.environ.get("BENCH_DATABASE", "leadtrack_bench")
    password: str = os.environ.get("BENCH_PASSWORD", "bench-password-2025")
    list_query: str = os.environ.get("BENCH_LIST_QUERY", "stage=mql")
    regenerate: bool = os.environ.get("BENCH_REGENERATE", "") not in ("", "0", "false")

    def dataset(self) -> dict:
        keys = ("leads", "activities", "mid_leads", "mid_activities", "small_orgs", "small_leads")
        return {k: getattr(self, k) for k in (*keys, "small_activities", "seed")}


@dataclass
class Row:
    path: str
    measure: str
    product: float | str | None
    reference: float | str | None
    unit: str = ""
    ratio: float | None = None
    goal: str = ""
    met: str = ""
    note: str = ""


@dataclass
class Run:
    config: Config
    rows: list[Row] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row, *, compare: str | None = None, limit: float | None = None) -> None:
        """compare: '<=' / '>=' applies ``limit`` to the ratio; 'abs<=' / 'abs<' to the product value."""
        numbers = isinstance(row.product, int | float) and isinstance(row.reference, int | float)
        if numbers and row.reference:
            row.ratio = row.product / row.reference
        value = row.product if compare and compare.startswith("abs") else row.ratio
        if compare and isinstance(value, int | float):
            op = compare.removeprefix("abs")
            ok = value <= limit if op == "<=" else value >= limit if op == ">=" else value < limit
            row.met = "yes" if ok else "NO"
        elif compare:
            row.met = "—"
        self.rows.append(row)
        print(f"  {row.path} · {row.measure}: product={_fmt(row.product)} reference={_fmt(row.reference)}")


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- database -----------------------------------------------------------------


def owner_url(config: Config) -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    sys.path.insert(0, str(ROOT))
    from leadtrack import embedded

    base = os.environ.get("DATABASE_URL") or embedded.ensure_postgres()
    return urllib.parse.urlsplit(base)._replace(path=f"/{config.database}").geturl()


def redis_url() -> str:
    """A Redis database of its own (15 unless BENCH_REDIS_URL), so no other worker takes the run's tasks."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    from leadtrack import embedded

    base = os.environ.get("REDIS_URL") or embedded.ensure_redis()
    return urllib.parse.urlsplit(base)._replace(path="/15").geturl()


def _connect(url: str, **overrides):
    parts = urllib.parse.urlsplit(url)
    params = {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": urllib.parse.unquote(parts.username or ""),
        "dbname": parts.path.lstrip("/"),
    }
    if parts.password:
        params["password"] = urllib.parse.unquote(parts.password)
    params.update(overrides)
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


def prepare_database(config: Config, url: str, env: dict) -> None:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    admin = _connect(url, dbname="postgres")
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        stored = None
        if exists:
            with contextlib.closing(_connect(url)) as conn, conn.cursor() as c:
                c.execute("SELECT to_regclass('bench_dataset') IS NOT NULL")
                if c.fetchone()[0]:
                    c.execute("SELECT spec FROM bench_dataset")
                    row = c.fetchone()
                    stored = row[0] if row else None
        if exists and (config.regenerate or stored != config.dataset()):
            print(f"dropping {name}: its data is not this configuration's")
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = stored = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    _manage(env, "migrate", "--noinput", quiet=True)
    if stored == config.dataset():
        print(f"reusing the generated data in {name} ({config.dataset()})")
        return
    started = time.monotonic()
    generate = ["generate_leads", "--password", config.password, "--seed", str(config.seed)]
    _manage(
        env,
        *generate,
        *("--org", BIG, "--leads", str(config.leads), "--activities", str(config.activities)),
        *("--small-orgs", str(config.small_orgs), "--small-prefix", SMALL_PREFIX),
        *("--small-leads", str(config.small_leads), "--small-activities", str(config.small_activities)),
    )
    _manage(
        env,
        *generate,
        "--org",
        MID,
        "--leads",
        str(config.mid_leads),
        "--activities",
        str(config.mid_activities),
    )
    _manage(env, *generate, "--org", CREATE, "--leads", str(config.small_leads), "--activities", "0")
    seconds = time.monotonic() - started
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (spec jsonb, generated_seconds float)")
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s)", [json.dumps(config.dataset()), seconds])
    print(f"generated the data set in {seconds:.0f} s")


def _manage(env: dict, *args: str, quiet: bool = False) -> str:
    completed = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    if not quiet:
        for line in completed.stdout.splitlines():
            if not line.startswith("  "):
                print(f"  {line}")
    return completed.stdout


def prepare_summary(url: str) -> None:
    """The precomputed row set of the reference dashboard, filled per tenant under RLS."""
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute(SUMMARY_DDL)
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SUMMARY_TABLE} TO leadtrack_app")
        cursor.execute("SELECT id FROM tenancy_organization ORDER BY id")
        for (org_id,) in cursor.fetchall():
            cursor.execute("BEGIN")
            cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(org_id)])
            for statement in RECOMPUTE_ONE:
                cursor.execute(statement, {"org": org_id})
            cursor.execute("COMMIT")
        cursor.execute(f"ANALYZE {SUMMARY_TABLE}")


def prepare_snapshots(env: dict) -> None:
    """The product's nightly snapshot of the dashboard organizations, as after their first night.

    The reference dashboard reads its precomputed summary; the product's reads its snapshot
    (history) plus what counted since (live). Without this the product page would be measured
    as on a tenant's first day, before any nightly run.
    """
    if "reports_recompute" not in _manage(env, "help", "--commands", quiet=True):
        return
    _manage(env, "reports_recompute", "--org", MID, "--org", SMALL)


# --- servers --------------------------------------------------------------------


class Processes:
    """Servers started by this run; each is stopped by its own pid at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        handle = open(log, "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class RssSampler(threading.Thread):
    """Peak memory of a process tree: PSS of the whole tree (shared pages counted once, split
    between the processes that map them: what the tree really holds), the sum of RSS (which counts
    every shared page once per process) and the largest single RSS."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total = 0
        self.peak_pss = 0
        self.peak_process = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(self.pid)
                sizes, proportional = [], []
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        info = proc.memory_full_info()
                        sizes.append(info.rss)
                        proportional.append(getattr(info, "pss", info.rss))
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_pss = max(self.peak_pss, sum(proportional))
                self.peak_process = max([self.peak_process, *sizes])
            self._stop_event.wait(0.25)

    def stop(self) -> None:
        self._stop_event.set()


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 - 127.0.0.1
            return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s")


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def login_cookie(base: str, email: str, password: str, env: dict | None = None) -> str | None:
    """Log in through the login form, as a browser would, and pass the second factor when the page
    asks for it (admins and managers); returns the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post_form(path: str, fields: dict) -> str:
        page = opener.open(f"{base}{path}", timeout=30)
        url, body = page.geturl(), page.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not token:
            return url
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": f"{base}/"})  # noqa: S310
        with contextlib.suppress(urllib.error.HTTPError):
            return opener.open(request, timeout=30).geturl()
        return url

    landed = post_form("/accounts/login/", {"username": email, "password": password})
    if "/accounts/mfa/" in landed:
        key = subprocess.run(
            [PY, "-m", "bench.mfa_device", email], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout.strip()
        if not key:
            return None
        from django_otp.oath import totp

        post_form(landed.replace(base, ""), {"token": f"{totp(bytes.fromhex(key)):06d}"})
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        return None
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def api_key(env: dict, slug: str) -> tuple[str | None, str]:
    """A read/write Bearer key for ``slug`` from the product's create_api_key command, or why there
    is none (the command missing, or its arguments changed)."""
    probe = subprocess.run(
        [PY, "manage.py", "create_api_key", "--help"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if probe.returncode != 0:
        return None, "the create_api_key command does not exist yet"
    args = ["create_api_key", "--org", slug, "--name", "bench", "--scopes", "read,write"]
    completed = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        return None, f"create_api_key failed: {(completed.stderr or completed.stdout).strip()[-200:]}"
    # The command prints the key alone on its last line.
    lines = [line.strip() for line in completed.stdout.splitlines() if line.strip()]
    if not lines or " " in lines[-1]:
        return None, "create_api_key printed no key"
    return lines[-1], ""


# --- measurements -------------------------------------------------------------------


def endpoint(run: Run, url: str, *, headers=None, post_body: str | None = None) -> dict:
    """Warm-up, then ``runs`` × (1 connection for latency, 8 for throughput); medians."""
    config = run.config
    load.measure(url, connections=8, seconds=config.warmup_seconds, headers=headers, post_body=post_body)
    c1, c8 = [], []
    for _ in range(config.runs):
        c1.append(
            load.measure(
                url, connections=1, seconds=config.latency_seconds, headers=headers, post_body=post_body
            )
        )
        c8.append(
            load.measure(url, connections=8, seconds=config.seconds, headers=headers, post_body=post_body)
        )
    summary = {
        "p50_ms_c1": load.median_of(c1, "p50_ms"),
        "p99_ms_c1": load.median_of(c1, "p99_ms"),
        "rps_c8": load.median_of(c8, "rps"),
        "p99_ms_c8": load.median_of(c8, "p99_ms"),
        "non_2xx": sum(r.non_2xx for r in c1 + c8),
        "errors": sum(r.errors for r in c1 + c8),
        "requests": sum(r.requests for r in c1 + c8),
        "tool": (c1 or c8)[0].tool if c1 or c8 else "",
    }
    run.raw[url] = summary
    return summary


def available(url: str, headers: dict | None, kind: str) -> tuple[bool, str]:
    try:
        status, content_type, _ = http_get(url, headers)
    except OSError as exc:
        return False, f"{type(exc).__name__}"
    if status != 200:
        return False, f"HTTP {status}"
    if kind not in content_type:
        return False, f"answered {content_type or 'no content type'}"
    return True, ""


def _unavailable_rows(
    run: Run, path: str, reason: str, measures: list[tuple[str, object, str, str, float]]
) -> None:
    for measure, reference, goal, compare, limit in measures:
        run.add(
            Row(path, measure, NOT_AVAILABLE, reference, goal=goal, note=reason), compare=compare, limit=limit
        )


def _info_pair(run: Run, path: str, product: dict, reference: dict) -> None:
    """Two information rows, p50 at 1 connection and req/s at 8, of two ``endpoint`` summaries."""
    run.add(Row(path, "p50 ms @1", product["p50_ms_c1"], reference["p50_ms_c1"], goal="(info)"))
    run.add(Row(path, "req/s @8", product["rps_c8"], reference["rps_c8"], goal="(info)"))


def measure_api(run: Run, base: str, key: str | None, key_reason: str, other_keys: dict) -> None:
    """``key``: the mid organization's; ``other_keys``: the 10k organization's and bench-create's."""
    config = run.config
    ref_list = endpoint(run, f"{base}/bench-ref/o/{MID}/leads.json?{config.list_query}")
    body = json.dumps(
        {
            "company": "Loadtest {n} Inc",
            "contact_name": "Load Tester {n}",
            "email": "load.{n}@load{run}.example",
            "country": "DE",
            "employees": 120,
        }
    )
    ref_create = endpoint(run, f"{base}/bench-ref/o/{CREATE}/leads/create", post_body=body)
    headers = {"Authorization": f"Bearer {key}"} if key else None
    list_url = f"{base}/api/v1/leads/?{config.list_query}"
    ok, reason = available(list_url, headers, "json") if key else (False, key_reason)
    path_list = "API lead list (page 50, filtered, mid org)"
    path_create = "API lead create (full validation)"
    if not ok:
        reason = f"/api/v1/leads/: {reason}"
        _unavailable_rows(
            run,
            path_list,
            reason,
            [
                ("p50 ms @1", ref_list["p50_ms_c1"], "≤ 1.5×", "<=", 1.5),
                ("req/s @8", ref_list["rps_c8"], "≥ 0.6×", ">=", 0.6),
            ],
        )
        _unavailable_rows(
            run, "API lead list, org size", reason, [("p50 mid ÷ 10k org", None, "≤ 1.3×", "abs<=", 1.3)]
        )
        _unavailable_rows(
            run,
            path_create,
            reason,
            [
                ("p50 ms @1", ref_create["p50_ms_c1"], "≤ 1.5×", "<=", 1.5),
                ("req/s @8", ref_create["rps_c8"], "≥ 0.6×", ">=", 0.6),
            ],
        )
        run.raw["api_unavailable"] = reason
        return
    product_list = endpoint(run, list_url, headers=headers)
    small_list = {"p50_ms_c1": None}
    if other_keys.get(SMALL):
        small_list = endpoint(run, list_url, headers={"Authorization": f"Bearer {other_keys[SMALL]}"})
    run.add(
        Row(path_list, "p50 ms @1", product_list["p50_ms_c1"], ref_list["p50_ms_c1"], goal="≤ 1.5×"),
        compare="<=",
        limit=1.5,
    )
    run.add(
        Row(path_list, "req/s @8", product_list["rps_c8"], ref_list["rps_c8"], goal="≥ 0.6×"),
        compare=">=",
        limit=0.6,
    )
    ref_former = endpoint(run, f"{base}/bench-ref/o/{MID}/leads-former.json?{config.list_query}")
    former = "API lead list beside the former reference (15 of the 34 fields)"
    _info_pair(run, former, product_list, ref_former)
    size_ratio = _ratio(product_list["p50_ms_c1"], small_list["p50_ms_c1"])
    run.add(
        Row("API lead list, org size", "p50 mid ÷ 10k org", size_ratio, None, goal="≤ 1.3×"),
        compare="abs<=",
        limit=1.3,
    )
    create_headers = {"Authorization": f"Bearer {other_keys.get(CREATE) or key}"}
    product_create = endpoint(run, f"{base}/api/v1/leads/", headers=create_headers, post_body=body)
    run.add(
        Row(path_create, "p50 ms @1", product_create["p50_ms_c1"], ref_create["p50_ms_c1"], goal="≤ 1.5×"),
        compare="<=",
        limit=1.5,
    )
    run.add(
        Row(path_create, "req/s @8", product_create["rps_c8"], ref_create["rps_c8"], goal="≥ 0.6×"),
        compare=">=",
        limit=0.6,
    )
    # Information: the create beside the writes it cannot skip, and DRF's default beside the reference.
    ref_rows = endpoint(run, f"{base}/bench-ref/o/{CREATE}/leads/create-with-rows", post_body=body)
    rows = "API lead create beside a reference writing the same rows (lead, stage transition, audit event)"
    _info_pair(run, rows, product_create, ref_rows)
    drf_default = endpoint(run, f"{base}/bench-ref/o/{CREATE}/leads/create-drf", post_body=body)
    drf = "DRF ModelSerializer create (no auth, routing, audit or transition) beside the create reference"
    _info_pair(run, drf, drf_default, ref_create)
    # A reference answering 400s would look fast: its failures are named like the product's.
    measured = (
        ("API list", product_list),
        ("API create", product_create),
        ("list reference", ref_list),
        ("create reference", ref_create),
        ("same-rows create reference", ref_rows),
        ("DRF default create reference", drf_default),
    )
    for name, summary in measured:
        if summary["non_2xx"] or summary["errors"]:
            run.notes.append(
                f"{name}: {summary['non_2xx']} non-2xx responses, {summary['errors']} socket errors"
            )


def measure_floor(run: Run, base: str, bare: str) -> None:
    """The Django reference beside the bare WSGI floor: what Django itself costs here."""
    config = run.config
    bare_list = endpoint(run, f"{bare}/leads/?org={MID}&{config.list_query}")
    django_list = run.raw[f"{base}/bench-ref/o/{MID}/leads.json?{config.list_query}"]
    path = "Floor: Django .values() reference vs bare WSGI + psycopg2"
    _info_pair(run, path, django_list, bare_list)


def measure_pages(run: Run, base: str, cookie: str | None, env: dict) -> None:
    headers = {"Cookie": cookie} if cookie else None
    ref = endpoint(run, f"{base}/bench-ref/o/{MID}/leads/")
    lead_page = f"{base}/o/{MID}/leads/"
    ok, reason = available(lead_page, headers, "html") if cookie else (False, "login failed")
    path = "Browser lead list page (mid org)"
    if not ok:
        run.notes.append(f"/o/{MID}/leads/ not measurable ({reason}): the organization home page stands in.")
        lead_page = f"{base}/o/{MID}/"
        path = "Org home page (lead list page not there yet)"
        ok, reason = available(lead_page, headers, "html") if cookie else (False, "login failed")
    if not ok:
        _unavailable_rows(run, path, reason, [("p50 ms @1", ref["p50_ms_c1"], "≤ 1.5×", "<=", 1.5)])
        return
    product = endpoint(run, lead_page, headers=headers)
    run.add(
        Row(path, "p50 ms @1", product["p50_ms_c1"], ref["p50_ms_c1"], goal="≤ 1.5×"), compare="<=", limit=1.5
    )
    run.add(Row(path, "req/s @8", product["rps_c8"], ref["rps_c8"], goal="(info)"))
    if product["non_2xx"]:
        run.notes.append(f"{path}: {product['non_2xx']} non-2xx responses")

    # Dashboard: the metrics engine's page when it exists; the reference either way.
    dash_ref_mid = endpoint(run, f"{base}/bench-ref/o/{MID}/dashboard/")
    dash_ref_small = endpoint(run, f"{base}/bench-ref/o/{SMALL}/dashboard/")
    reference_ratio = _ratio(dash_ref_mid["p50_ms_c1"], dash_ref_small["p50_ms_c1"])
    path = "Funnel dashboard page"
    dashboard = next(
        (
            candidate
            for candidate in DASHBOARD_PATHS
            if cookie and available(f"{base}/o/{MID}/{candidate}", headers, "html")[0]
        ),
        None,
    )
    if dashboard is None:
        _unavailable_rows(
            run,
            path,
            "no dashboard page under /o/<org>/ yet",
            [("p50 ms @1 (mid org)", dash_ref_mid["p50_ms_c1"], "≤ 1.5×", "<=", 1.5)],
        )
        run.add(
            Row("Dashboard reference, org size", "p50 mid ÷ 10k org", reference_ratio, None, goal="(info)")
        )
        return
    mid = endpoint(run, f"{base}/o/{MID}/{dashboard}", headers=headers)
    run.add(
        Row(
            path,
            f"p50 ms @1 (/o/<org>/{dashboard}, mid org)",
            mid["p50_ms_c1"],
            dash_ref_mid["p50_ms_c1"],
            goal="≤ 1.5×",
        ),
        compare="<=",
        limit=1.5,
    )
    small_cookie = login_cookie(base, f"admin@{SMALL}.bench.example", run.config.password, env)
    small = endpoint(run, f"{base}/o/{SMALL}/{dashboard}", headers={"Cookie": small_cookie or ""})
    run.add(
        Row(
            path + ", org size",
            "p50 mid ÷ 10k org",
            _ratio(mid["p50_ms_c1"], small["p50_ms_c1"]),
            None,
            goal="≤ 1.2×",
            note=f"reference's own ratio {_fmt(reference_ratio)}",
        ),
        compare="abs<=",
        limit=1.2,
    )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None


def measure_sql_counts(run: Run, env: dict, key: str | None, create_key: str | None) -> None:
    mid_admin = f"admin@{MID}.bench.example"
    requests = {
        "page_html": {"path": f"/o/{MID}/leads/"},
        "home_html": {"path": f"/o/{MID}/"},
    }
    if key:
        requests |= {
            "api_list_10": {"path": f"/api/v1/leads/?{run.config.list_query}&page_size=10", "api": True},
            "api_list_50": {"path": f"/api/v1/leads/?{run.config.list_query}&page_size=50", "api": True},
            "api_create": {
                "path": "/api/v1/leads/",
                "api": True,
                "api_key": create_key,  # creates go to bench-create, as everywhere in the run
                "method": "post",
                "json": {"company": "Count Inc", "email": "count.{n}@count.example"},
            },
        }
    spec = {"login_email": mid_admin, "api_key": key, "requests": requests}
    completed = subprocess.run(
        [PY, "-m", "bench.sqlcount", json.dumps(spec)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        run.notes.append(f"SQL counts failed: {completed.stderr.strip()[-300:]}")
        return
    counts = json.loads(completed.stdout.strip().splitlines()[-1])
    run.raw["sql_counts"] = counts
    path = "SQL statements per request (besides auth/tenant)"
    for name, label, limit in (("api_list_50", "API list, page 50", 3), ("api_create", "API create", 4)):
        entry = counts.get(name)
        if entry and entry["status"] < 300:
            note = f"total {entry['total']} incl. auth; first request of a process: {entry['cold_data']}"
            if name == "api_list_50" and "api_list_10" in counts:
                note += f"; page 10: {counts['api_list_10']['data']}"
            run.add(
                Row(path, label, entry["data"], None, goal=f"≤ {limit}", note=note),
                compare="abs<=",
                limit=limit,
            )
        else:
            reason = f"HTTP {entry['status']}" if entry else run.raw.get("api_unavailable", "no API key")
            run.add(
                Row(path, label, NOT_AVAILABLE, None, goal=f"≤ {limit}", note=reason),
                compare="abs<=",
                limit=limit,
            )
    for name, label in (("page_html", "lead list page"), ("home_html", "org home page")):
        entry = counts.get(name)
        if entry and entry["status"] == 200:
            run.add(Row(path, label, entry["data"], None, goal="(info)", note=f"total {entry['total']}"))


def _superuser(url: str):
    """A connection as the server's superuser (RLS-exempt), or None where it is not reachable."""
    try:
        return _connect(url, user="postgres", password=None)
    except psycopg2.Error:
        return None


def _copy_lines(url: str, rows: int) -> tuple[str, list[str]]:
    """(column list, COPY text lines) of ``rows`` plain leads: every NOT NULL column without a
    database default (Django keeps defaults in Python) filled, the organization left to the caller."""
    given = {
        "company": lambda i: f"Copy {i} GmbH",
        "contact_name": lambda i: f"Copy Person {i}",
        "email": lambda i: f"copy.{i}@copy{i // 3}.example",
        "phone": lambda i: f"+49 30 {i:07d}",
        "country": lambda i: "DE",
        "region": lambda i: "europe",
        "domain": lambda i: f"copy{i // 3}.example",
        "stage": lambda i: "lead",
        "currency": lambda i: "EUR",
    }
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'leads_lead' "
            "AND is_nullable = 'NO' AND column_default IS NULL AND is_generated = 'NEVER' "
            "AND column_name NOT IN ('id', 'organization_id') ORDER BY ordinal_position"
        )
        required = cursor.fetchall()
    fillers = {"integer": "0", "bigint": "0", "smallint": "0", "boolean": "f"}
    lines = [
        "\t".join(
            given[name](i)
            if name in given
            else fillers.get(kind, "2025-01-01T00:00:00+00:00" if "time" in kind else "")
            for name, kind in required
        )
        + "\n"
        for i in range(rows)
    ]
    return ", ".join(name for name, _ in required), lines


def _copy_into_leads_table(url: str, columns: str, lines: list[str]) -> float | None:
    """Seconds for psycopg COPY of ``lines`` into leads_lead itself, committed, in an organization of
    its own that is dropped afterwards: the table's WAL, its indexes and its deferred foreign-key
    checks at COMMIT, as the import pays them. COPY FROM refuses a table under row-level security,
    so the server's superuser copies; None when it is not reachable."""
    superuser = _superuser(url)
    if superuser is None:
        return None
    slug = f"bench-copy-{time.time_ns()}"
    try:
        with contextlib.closing(superuser), superuser.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tenancy_organization (slug, name, time_zone, currency, created_at) "
                "VALUES (%s, %s, 'UTC', 'EUR', now()) RETURNING id",
                [slug, slug],
            )
            org_id = cursor.fetchone()[0]
            data = io.StringIO("".join(f"{org_id}\t{line}" for line in lines))
            started = time.monotonic()
            cursor.execute("BEGIN")
            cursor.copy_expert(f"COPY leads_lead (organization_id, {columns}) FROM STDIN", data)
            cursor.execute("COMMIT")
            return time.monotonic() - started
    finally:
        drop_organization(url, slug)


def measure_import(run: Run, url: str, env: dict) -> None:
    """Reference: psycopg COPY into the leads table itself (issue 10, docs/performance.md §2.1/§2.5),
    committed. Also timed, for information: COPY into a temporary table shaped and indexed like it
    (the reference until 2026-11-27: no WAL, no foreign keys) and the generator's staged route."""
    rows = run.config.import_rows
    columns, lines = _copy_lines(url, rows)
    table_seconds = _copy_into_leads_table(url, columns, lines)
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(
            "CREATE TEMP TABLE bench_copy_ref (LIKE leads_lead INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING GENERATED INCLUDING INDEXES INCLUDING CONSTRAINTS)"
        )
        cursor.execute("SELECT id FROM tenancy_organization WHERE slug = %s", [MID])
        org_id = cursor.fetchone()[0]
        started = time.monotonic()
        cursor.copy_expert(
            f"COPY bench_copy_ref (organization_id, {columns}) FROM STDIN",
            io.StringIO("".join(f"{org_id}\t{line}" for line in lines)),
        )
        temp_seconds = time.monotonic() - started
        cursor.execute("ROLLBACK")
        # The generator's route into the real table: staging COPY + INSERT … SELECT under RLS.
        cursor.execute("BEGIN")
        cursor.execute("SET ROLE leadtrack_app")
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(org_id)])
        started = time.monotonic()
        cursor.execute(
            "CREATE TEMP TABLE bench_stage ON COMMIT DROP AS "
            f"SELECT organization_id, {columns} FROM leads_lead WITH NO DATA"
        )
        cursor.copy_expert(
            f"COPY bench_stage (organization_id, {columns}) FROM STDIN",
            io.StringIO("".join(f"{org_id}\t{line}" for line in lines)),
        )
        cursor.execute(
            f"INSERT INTO leads_lead (organization_id, {columns}) "
            f"SELECT organization_id, {columns} FROM bench_stage"
        )
        staged_seconds = time.monotonic() - started
        cursor.execute("ROLLBACK")
    run.raw["import"] = {
        "rows": rows,
        "copy_into_leads_table_seconds": table_seconds,
        "copy_into_temp_table_seconds": temp_seconds,
        "staged_rls_seconds": staged_seconds,
    }
    temp_rate = rows / temp_seconds
    copy_rate = rows / table_seconds if table_seconds else None
    reference_note = "COPY into leads_lead itself, committed (its WAL, indexes and foreign-key checks)"
    if copy_rate is None:
        # Without an RLS-exempt role the temporary table stands in: a faster floor, so a lower ratio.
        copy_rate = temp_rate
        reference_note = "no RLS-exempt role reachable: reference = COPY into the temporary table"
    run.add(
        Row(
            "COPY into a temporary copy of the leads table (former reference)",
            f"rows/s, {rows:,} rows",
            temp_rate,
            copy_rate,
            goal="(info)",
            note="same columns and indexes, no WAL, no foreign keys, rolled back",
        )
    )
    run.add(
        Row(
            "COPY → staging → INSERT…SELECT under RLS (generator/import route)",
            f"rows/s, {rows:,} rows",
            rows / staged_seconds,
            copy_rate,
            goal="(info)",
            note="into the real indexed leads table, rolled back",
        )
    )
    path = f"Validated CSV import, {rows:,} rows"
    if not _product_importer():
        run.add(
            Row(
                path,
                "rows/s server side",
                NOT_AVAILABLE,
                copy_rate,
                goal="≥ 0.25×",
                note="leads.imports has no runnable fast path yet",
            ),
            compare=">=",
            limit=0.25,
        )
        return
    slug = f"bench-import-{time.time_ns()}"
    try:
        product_rate, note = _run_product_import(env, rows, slug)
    finally:
        drop_organization(url, slug)
    if isinstance(product_rate, float):
        note += f"; {product_rate / temp_rate:.2f}× the former reference"
    run.add(
        Row(
            path,
            "rows/s server side",
            product_rate,
            copy_rate,
            goal="≥ 0.25×",
            note=f"{note}; reference: {reference_note}",
        ),
        compare=">=",
        limit=0.25,
    )


def _product_importer() -> bool:
    """True when leads.imports offers the upload → start → Celery job flow the harness drives."""
    services = ROOT / "leads" / "imports" / "services.py"
    text = services.read_text() if services.exists() else ""
    return "def import_job_create(" in text and "def import_job_start(" in text


def _run_product_import(env: dict, rows: int, slug: str) -> tuple[float | str, str]:
    completed = subprocess.run(
        [PY, "-m", "bench.import_product", str(rows), slug, "3600"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        return NOT_AVAILABLE, f"import run failed: {completed.stderr.strip()[-200:]}"
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["rows_per_second"] or NOT_AVAILABLE, result.get("note", "")


def drop_organization(url: str, slug: str) -> None:
    """Delete an organization the run created, every row that carries its id and its generated people."""
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_organization WHERE slug = %s", [slug])
        row = cursor.fetchone()
        if row is None:
            return
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'organization_id' AND table_name IN "
            "(SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')"
        )
        tables = [t for (t,) in cursor.fetchall()]
        cursor.execute("BEGIN")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(row[0])])
        for table in tables:
            cursor.execute(f'DELETE FROM "{table}" WHERE organization_id = %s', [row[0]])
        cursor.execute("DELETE FROM tenancy_organization WHERE id = %s", [row[0]])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [f"%@{slug}.bench.example"])
        cursor.execute("COMMIT")


# The session settings the product's recompute runs with (reports.services.snapshot_recompute):
# the reference runs with the same, so that the ratio is the engine's own cost, not a setting.
REFERENCE_SETTINGS = "SET LOCAL jit = off"


def measure_recompute(run: Run, url: str, env: dict) -> None:
    """Reference: the engine's snapshot rows (same groups, same counts) computed by one raw INSERT …
    SELECT … GROUP BY GROUPING SETS over every tenant / under RLS for the big org (bench/sql.py).

    The 4-key GROUP BY (organization × UTC month × source × stage) that stood here before is
    still timed and reported as information: it is not the same work (no stage events, no
    organization time zone, 2 dimensions instead of 9 and no week), so it is no reference.
    """
    with contextlib.closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM tenancy_organization WHERE slug = %s", [BIG])
        big_id = cursor.fetchone()[0]
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL ROLE leadtrack_app")
        cursor.execute(REFERENCE_SETTINGS)
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(big_id)])
        cursor.execute(SNAPSHOT_REFERENCE_DDL.format(target="bench_snapshot_one"))
        started = time.monotonic()
        cursor.execute(SNAPSHOT_REFERENCE_ONE.format(target="bench_snapshot_one"), {"org": big_id})
        per_tenant = time.monotonic() - started
        cursor.execute("ROLLBACK")
        cursor.execute("BEGIN")
        cursor.execute("SELECT set_config('app.organization_id', %s, true)", [str(big_id)])
        cursor.execute(f"CREATE TEMP TABLE bench_one (LIKE {SUMMARY_TABLE})")
        started = time.monotonic()
        cursor.execute(
            RECOMPUTE_ONE[1].replace(SUMMARY_TABLE, "bench_one").replace("%(org)s", str(int(big_id)))
        )
        old_per_tenant = time.monotonic() - started
        cursor.execute("ROLLBACK")
    single, single_note, old_single = None, "", None
    superuser = _superuser(url)
    if superuser is None:
        single_note = (
            "no RLS-exempt role reachable: reference = the big org's per-tenant query (a lower bound)"
        )
    if superuser is not None:
        with contextlib.closing(superuser), superuser.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(REFERENCE_SETTINGS)
            cursor.execute(SNAPSHOT_REFERENCE_DDL.format(target="bench_snapshot_all"))
            started = time.monotonic()
            cursor.execute(SNAPSHOT_REFERENCE_ALL.format(target="bench_snapshot_all"))
            single = time.monotonic() - started
            cursor.execute("ROLLBACK")
            cursor.execute("BEGIN")
            cursor.execute(f"CREATE TEMP TABLE bench_all (LIKE {SUMMARY_TABLE})")
            started = time.monotonic()
            cursor.execute(RECOMPUTE_ALL.format(target="bench_all"))
            old_single = time.monotonic() - started
            cursor.execute("ROLLBACK")
    run.raw["recompute_reference_4key"] = {
        "per_tenant_big_s": old_per_tenant,
        "single_query_all_s": old_single,
    }
    run.raw["recompute_reference"] = {"per_tenant_big_s": per_tenant, "single_query_all_s": single}

    reference = single if single is not None else per_tenant
    workers = run.config.celery_concurrency
    fan, error = _in_fanout(env, f"fan_out(use_product=True, timeout={FANOUT_TIMEOUT})")
    path = "Nightly recompute, all organizations"
    if fan is not None and fan["product"]:
        run.raw["recompute_fanout"] = fan
        run.add(
            Row(
                path,
                f"seconds, {fan['organizations']} orgs, {workers} worker procs ({fan['task']})",
                fan["seconds"],
                reference,
                goal="≤ 2×",
                note=single_note,
            ),
            compare="<=",
            limit=2,
        )
    else:
        reason = f"the recompute task failed: {error}" if error else "reports has no recompute OrgTask yet"
        run.add(
            Row(
                path,
                "seconds",
                NOT_AVAILABLE,
                reference,
                goal="≤ 2×",
                note=reason + (f"; {single_note}" if single_note else ""),
            ),
            compare="<=",
            limit=2,
        )
    stand_in, error = _in_fanout(env, f"fan_out(use_product=False, timeout={FANOUT_TIMEOUT})")
    if stand_in is not None:
        run.raw["recompute_fanout_stand_in"] = stand_in
        run.add(
            Row(
                "Stand-in fan-out: raw per-tenant GROUP BY as OrgTasks",
                f"seconds, {stand_in['organizations']} orgs, {workers} worker procs",
                stand_in["seconds"],
                reference,
                goal="(info)",
                note="what the Celery fan-out itself costs around the cheapest per-tenant work",
            ),
        )
    one, error = _in_fanout(env, f"recompute_one(slug={BIG!r}, use_product=True, timeout={FANOUT_TIMEOUT})")
    product_one = one is not None and one["product"]
    if one is not None:
        run.raw["recompute_one"] = one
    run.add(
        Row(
            "On-demand recompute, big org",
            f"seconds ({one['task']}, through the worker)" if product_one else "seconds",
            one["seconds"] if product_one else NOT_AVAILABLE,
            per_tenant,
            goal="≤ 2×",
            note="reference: the same groups and counts by one raw GROUPING SETS statement under RLS"
            + (f"; the task failed: {error}" if error else ""),
        ),
        compare="<=",
        limit=2,
    )
    run.add(
        Row(
            "Former recompute reference (not the same work)",
            "seconds: 4-key GROUP BY all orgs / big org",
            old_single,
            old_per_tenant,
            goal="(info)",
            note="org × UTC month × source × stage, leads only: no events, zone, weeks, 7 dimensions",
        )
    )


FANOUT_TIMEOUT = 3600


def _in_fanout(env: dict, call: str) -> tuple[dict | None, str]:
    """Run ``bench.fanout.<call>`` in a process of its own; (its result, or None and the error)."""
    completed = subprocess.run(
        [PY, "-c", f"import json, bench.fanout as f; print(json.dumps(f.{call}))"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        last = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return None, last[0][:200]
    return json.loads(completed.stdout.strip().splitlines()[-1]), ""


def start_worker(run: Run, env: dict, processes: Processes, log_dir: Path) -> RssSampler:
    """A Celery worker for the import jobs (queue celery) and the recompute fan-out (queue bench)."""
    concurrency = str(run.config.celery_concurrency)
    worker = processes.start(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "bench.fanout",
            "worker",
            "-Q",
            "bench,celery",
            "-c",
            concurrency,
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log_dir / "worker.log",
    )
    sampler = RssSampler(worker.pid)
    sampler.start()
    time.sleep(3)
    return sampler


def measure_mixed(run: Run, base: str, key: str | None, create_key: str | None) -> None:
    """Mixed list/create at a fixed rate (G9: p99 ≤ 100 ms at 190 req/s): 80% list, 20% create.

    The list reads the mid organization (``key``), the creates go to bench-create (``create_key``),
    as the references do."""
    config = run.config

    def picker(list_path: str, create_path: str, headers: dict, create_headers: dict | None = None):
        # Its own stamp: the reference's and the product's creates go to the same organization,
        # and the same e-mails would make every product create a duplicate (409).
        stamp = time.time_ns()

        def pick(n: int):
            if n % 5 == 4:
                body = json.dumps(
                    {"company": f"Mixed {n}", "email": f"mixed.{stamp}.{n}@mixed{stamp}.example"}
                ).encode()
                sent = {**(headers if create_headers is None else create_headers)}
                return "POST", create_path, {**sent, "Content-Type": "application/json"}, body
            return "GET", list_path, headers, None

        return pick

    reference = load.open_loop(
        base,
        rate=config.mixed_rate,
        seconds=config.mixed_seconds,
        pick=picker(
            f"/bench-ref/o/{MID}/leads.json?{config.list_query}", f"/bench-ref/o/{CREATE}/leads/create", {}
        ),
    )
    run.raw["mixed_reference"] = asdict(reference) | {"latencies_ms": None}
    path = f"Mixed list/create load at {config.mixed_rate:.0f} req/s"
    if not key or run.raw.get("api_unavailable"):
        run.add(
            Row(
                path,
                "p99 ms",
                NOT_AVAILABLE,
                reference.p99_ms,
                goal="≤ 100 ms",
                note=f"{run.raw.get('api_unavailable', 'no API key')}; "
                f"reference achieved {reference.rps:.0f} req/s",
            ),
            compare="abs<=",
            limit=100,
        )
        return
    product = load.open_loop(
        base,
        rate=config.mixed_rate,
        seconds=config.mixed_seconds,
        pick=picker(
            f"/api/v1/leads/?{config.list_query}",
            "/api/v1/leads/",
            {"Authorization": f"Bearer {key}"},
            {"Authorization": f"Bearer {create_key or key}"},
        ),
    )
    run.raw["mixed_product"] = asdict(product) | {"latencies_ms": None}
    run.add(
        Row(
            path,
            "p99 ms",
            product.p99_ms,
            reference.p99_ms,
            goal="≤ 100 ms",
            note=f"achieved {product.rps:.0f} req/s, {product.non_2xx} non-2xx "
            f"(reference {reference.non_2xx} non-2xx)",
        ),
        compare="abs<=",
        limit=100,
    )


# --- report ---------------------------------------------------------------------------


def markdown(run: Run) -> str:
    header = (
        "| path | measure | product | reference | ratio | goal | met? | note |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r.path} | {r.measure} | {_fmt(r.product)} | {_fmt(r.reference)} | "
        f"{'—' if r.ratio is None else f'{r.ratio:.2f}×'} | {r.goal} | {r.met} | {r.note} |"
        for r in run.rows
    ]
    return header + "\n".join(lines) + "\n"


def main() -> int:
    from bench import forms as forms_bench  # it imports this module's helpers

    config = Config()
    run = Run(config)
    url = owner_url(config)
    redis = redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": "bench",
        # The benchmark measures throughput, not the published rate limits.
        "API_RATE_LIMIT_KEY": "100000000/min",
        "API_RATE_LIMIT_ORGANIZATION": "100000000/min",
        "AXES_FAILURE_LIMIT": "1000",
        **forms_bench.RATE_LIMIT_ENV,
    }
    print(f"make bench: {json.dumps(config.dataset())}; load tool: {'wrk' if load.have_wrk() else 'python'}")
    prepare_database(config, url, env)
    prepare_summary(url)
    prepare_snapshots(env)
    log_dir = ROOT / "var" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    samplers: dict[str, RssSampler] = {}
    try:
        base = f"http://127.0.0.1:{config.port}"
        bare = f"http://127.0.0.1:{config.port + 1}"
        gunicorn = [
            PY,
            "-m",
            "gunicorn",
            "--workers",
            str(config.workers),
            "--worker-class",
            "sync",
            "--graceful-timeout",
            "5",
            "--timeout",
            "120",
        ]
        web = processes.start(
            [*gunicorn, "--bind", base[7:], "bench.wsgi:application"], env, log_dir / "web.log"
        )
        processes.start(
            [*gunicorn, "--bind", bare[7:], "bench.bare_wsgi:application"],
            {**env, "BENCH_DSN": url},
            log_dir / "bare.log",
        )
        wait_http(f"{base}/healthz")
        wait_http(f"{bare}/leads/?org={MID}")
        samplers["web"] = RssSampler(web.pid)
        samplers["web"].start()
        key, key_reason = api_key(env, MID)
        # A key names its organization: the 10k-org list and the creates need keys of their own
        # (creates go to bench-create, so the mid organization's dashboard is measured as after
        # its nightly snapshot, like the 10k one's).
        other_keys = {slug: api_key(env, slug)[0] for slug in (SMALL, CREATE)} if key else {}
        if key is None:
            run.notes.append(f"API not measured: {key_reason}")
        cookie = login_cookie(base, f"admin@{MID}.bench.example", config.password, env)
        print("measuring the API and its references")
        measure_api(run, base, key, key_reason, other_keys)
        measure_floor(run, base, bare)
        print("measuring pages")
        measure_pages(run, base, cookie, env)
        print("counting SQL statements")
        measure_sql_counts(run, env, key, other_keys.get(CREATE))
        print("measuring the mixed load")
        measure_mixed(run, base, key, other_keys.get(CREATE))
        print("measuring tracking events")
        measure_tracking(run, base, env, processes, log_dir)
        samplers["worker"] = start_worker(run, env, processes, log_dir)
        print("measuring bulk load and the import")
        measure_import(run, url, env)
        print("measuring the recompute")
        measure_recompute(run, url, env)
        print("measuring form submissions")
        forms_bench.measure_forms(run, base, env)
    finally:
        for sampler in samplers.values():
            sampler.stop()
        processes.stop_all()
    for role, sampler in samplers.items():
        run.add(
            Row(
                f"Memory: {role}",
                "peak PSS MB (whole process tree)",
                sampler.peak_pss / 2**20,
                None,
                goal="< 500 MB",
                note=f"sum of RSS {sampler.peak_total / 2**20:.0f} MB (shared pages counted per process); "
                f"largest single process {sampler.peak_process / 2**20:.0f} MB",
            ),
            compare="abs<",
            limit=500,
        )
    machine = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": shutil.which("wrk") is not None,
    }
    # A reference answering errors measures the error path: say so beside the table.
    for url, summary in run.raw.items():
        failed = isinstance(summary, dict) and (summary.get("non_2xx") or summary.get("errors"))
        if failed and "/bench-ref/" in url:
            run.notes.append(
                f"reference {url}: {summary['non_2xx']} non-2xx responses, {summary['errors']} socket errors"
            )
    table = markdown(run)
    text = (
        f"# make bench results\n\nData: {json.dumps(config.dataset())}; "
        f"gunicorn {config.workers} sync workers; "
        f"{config.runs} run(s) × ({config.latency_seconds:g} s @1, {config.seconds:g} s @8); "
        f"machine {machine['cpus']} CPUs, load {machine['load_average'][0]:.2f}.\n\n{table}\n"
        + "".join(f"- {note}\n" for note in run.notes)
    )
    (BENCH_DIR / "results.md").write_text(text)
    (BENCH_DIR / "results.json").write_text(
        json.dumps(
            {
                "config": asdict(config),
                "machine": machine,
                "rows": [asdict(r) for r in run.rows],
                "notes": run.notes,
                "raw": run.raw,
            },
            indent=2,
            default=str,
        )
    )
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
