"""Lead form submissions for one organization (issue 9): ``POST /f/<key>`` as the script embed
sends it (JSON answer), through gunicorn, the form-key lookup, the rate limits in Redis, the
validation, the stored FormSubmission and the enqueue of its processing.

Goals: ≥ 50 submissions/s at 8 connections and p99 < 200 ms at 1 connection (absolute, from the
issue). The reference column is the bare Django create of the same run (``/bench-ref/``:
``objects.create`` + ``JsonResponse`` into the same organization), which says how loaded the
machine was. ``make bench`` calls ``measure_forms`` once the
Celery worker runs (it turns the submissions into leads while the load runs, as in production);
``python -m bench.forms`` is a small run of this module alone against ``DATABASE_URL`` /
``REDIS_URL`` (it migrates that database and starts its own gunicorn and worker).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.parse

from bench.run import (
    NOT_AVAILABLE,
    PY,
    ROOT,
    Config,
    Processes,
    Row,
    Run,
    _connect,
    _fmt,
    _manage,
    endpoint,
    wait_http,
)

PATH = "Form submission (POST /f/<key>, one organization)"
FORM_NAME = "Bench form"
# The benchmark measures throughput: the limits are still checked in Redis on every post.
RATE_LIMIT_ENV = {"WEBFORMS_RATE_LIMIT_IP": "100000000/min", "WEBFORMS_RATE_LIMIT_FORM": "100000000/min"}

_FORM_SCRIPT = """
from capture.forms.models import LeadForm
from capture.forms.services import form_save
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

organization, _ = Organization.objects.get_or_create(slug={slug!r}, defaults={{"name": {slug!r}}})
with tenant_context(organization):
    form = LeadForm.objects.filter(organization=organization, name={name!r}).first() or form_save(
        org=organization,
        actor=None,
        data={{
            "name": {name!r},
            "fields": [
                {{"name": "contact_name", "label": "Name", "required": False, "custom": False}},
                {{"name": "email", "label": "E-mail", "required": True, "custom": False}},
                {{"name": "company", "label": "Company", "required": False, "custom": False}},
                {{"name": "interest", "label": "Interest", "required": False, "custom": True}},
            ],
            "consent_enabled": True,
            "consent_text": "I agree to be contacted.",
        }},
    )
    print("FORM_KEY=" + form.key)
"""


def form_key(env: dict, slug: str) -> str:
    """The key of the benchmark's form in ``slug`` (created with the organization when missing)."""
    output = _manage(env, "shell", "-c", _FORM_SCRIPT.format(slug=slug, name=FORM_NAME), quiet=True)
    return next(line.split("=", 1)[1] for line in output.splitlines() if line.startswith("FORM_KEY="))


def measure_forms(run: Run, base: str, env: dict, slug: str = "bench-create") -> None:
    try:
        key = form_key(env, slug)
    except (RuntimeError, StopIteration) as exc:
        reason = f"no bench form: {str(exc).splitlines()[0]}"
        run.add(
            Row(PATH, "req/s @8", NOT_AVAILABLE, None, goal="≥ 50/s", note=reason), compare="abs>=", limit=50
        )
        return
    body = json.dumps(
        {
            "contact_name": "Form Visitor {n}",
            "email": "visitor.{n}@forms{run}.example",
            "company": "Form Bench {n}",
            "interest": "pricing",
            "consent": "yes",
            "utm_source": "bench",
            "utm_campaign": "load",
            "page_url": "https://www.bench.example/contact",
        }
    )
    reference = endpoint(
        run,
        f"{base}/bench-ref/o/{slug}/leads/create",
        post_body=json.dumps({"company": "Reference {n}", "email": "reference.{n}@ref{run}.example"}),
    )
    result = endpoint(run, f"{base}/f/{key}", headers={"Accept": "application/json"}, post_body=body)
    note = (
        f"{result['non_2xx']} non-2xx, {result['errors']} errors of {result['requests']} ({result['tool']})"
    )
    run.add(
        Row(PATH, "req/s @8", result["rps_c8"], reference["rps_c8"], goal="≥ 50/s", note=note),
        compare="abs>=",
        limit=50,
    )
    p50 = f"p50 {_fmt(result['p50_ms_c1'])} ms (reference {_fmt(reference['p50_ms_c1'])} ms)"
    run.add(
        Row(PATH, "p99 ms @1", result["p99_ms_c1"], reference["p99_ms_c1"], goal="< 200 ms", note=p50),
        compare="abs<",
        limit=200,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_database(url: str) -> None:
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    admin = _connect(url, dbname="postgres")
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def main() -> int:
    """A small run of this module alone (development): its own gunicorn and worker."""
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("python -m bench.forms needs DATABASE_URL and REDIS_URL (a database it may migrate)")
        return 2
    config = Config()
    run = Run(config)
    env = {
        **os.environ,
        **RATE_LIMIT_ENV,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    _ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", quiet=True)
    base = f"http://127.0.0.1:{_free_port()}"
    log_dir = ROOT / "var" / "bench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    try:
        processes.start(
            [
                PY,
                "-m",
                "gunicorn",
                "--workers",
                str(config.workers),
                "--bind",
                base[7:],
                "bench.wsgi:application",
            ],
            env,
            log_dir / "forms-web.log",
        )
        processes.start(
            [PY, "-m", "celery", "-A", "leadtrack.celery", "worker", "-c", "1", "--loglevel", "WARNING"],
            env,
            log_dir / "forms-worker.log",
        )
        wait_http(f"{base}/healthz")
        time.sleep(2)
        measure_forms(run, base, env, slug="bench-forms")
    finally:
        processes.stop_all()
    for row in run.rows:
        print(
            f"| {row.path} | {row.measure} | {_fmt(row.product)} | {_fmt(row.reference)} | {row.goal} "
            f"| {row.met} | {row.note} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
