"""Tracking events accepted per second: the product's ``POST /t/<key>/e`` beside a bare WSGI app
that appends the same body to the same Redis stream, measured in the same run (goal ≥ 0.5×).

``make bench`` calls ``measure_tracking`` (bench/run.py); ``python -m bench.tracking`` is a tiny
stand-alone run against the current DATABASE_URL / REDIS_URL (both servers on 127.0.0.1,
BENCH_TRACKING_PORT and the next one), for checking this module alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

from bench import load

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Same stream as capture/tracking/stream.py: the reference pays the same Redis write.
STREAM = "leadtrack:tracking:events"
BODY = json.dumps(
    {
        "event_id": "bench{run}x{n}",
        "visitor_id": "bench-visitor-0001",
        "url": "https://www.bench.example/pricing?utm_source=partner&utm_campaign=cert",
        "referrer": "https://www.google.com/",
    }
)

_redis: redis.Redis | None = None


def bare_application(environ, start_response):
    """The floor: read the body, parse it, XADD it. No Django, no validation, no site lookup."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        event = json.loads(body)
    except ValueError:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"bad json"]
    _redis.xadd(STREAM, {"e": json.dumps(event, separators=(",", ":"))})
    start_response("204 No Content", [])
    return []


def site_key(env: dict, slug: str) -> tuple[str | None, str]:
    """A tracking site of ``slug`` (created through the service), or why there is none."""
    completed = subprocess.run(
        [PY, "-m", "bench.tracking", "site", slug], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        return None, (completed.stderr or completed.stdout).strip()[-300:]
    return completed.stdout.strip().splitlines()[-1], ""


def _create_site(slug: str) -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadtrack.settings")
    django.setup()
    from capture.tracking import services
    from capture.tracking.models import TrackingSite
    from leadtrack.tenancy.context import tenant_context
    from leadtrack.tenancy.models import Organization

    organization = Organization.objects.get(slug=slug)
    with tenant_context(organization):
        site = TrackingSite.objects.filter(organization=organization, name="bench").first()
        if site is None:
            site = services.site_create(org=organization, actor=None, name="bench")
        return site.key


def _clear_stream(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).delete(STREAM)


def _rate(url: str, *, seconds: float, warmup: float, runs: int) -> dict:
    load.measure(url, connections=8, seconds=warmup, post_body=BODY)
    results = [load.measure(url, connections=8, seconds=seconds, post_body=BODY) for _ in range(runs)]
    return {
        "rps_c8": load.median_of(results, "rps"),
        "p99_ms_c8": load.median_of(results, "p99_ms"),
        "non_2xx": sum(r.non_2xx for r in results),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
        "tool": results[0].tool if results else "",
    }


def compare(
    *, product_base: str, bare_base: str, key: str, redis_url: str, seconds: float, warmup: float, runs: int
) -> dict:
    """Both endpoints with the same body and load; the stream is emptied before and after."""
    _clear_stream(redis_url)
    try:
        product = _rate(f"{product_base}/t/{key}/e", seconds=seconds, warmup=warmup, runs=runs)
        _clear_stream(redis_url)
        bare = _rate(f"{bare_base}/e", seconds=seconds, warmup=warmup, runs=runs)
    finally:
        _clear_stream(redis_url)
    return {"product": product, "bare": bare}


def measure_tracking(run, base: str, env: dict, processes, log_dir: Path) -> None:
    """bench/run.py: a bare gunicorn on port+2 beside the product's, same workers; one row."""
    from bench.run import MID, Row, wait_http

    path = "Tracking events (POST /t/<key>/e)"
    key, reason = site_key(env, MID)
    if key is None:
        run.add(Row(path, "events/s @8", "not available", None, goal="≥ 0.5×", note=reason), compare=">=")
        return
    config = run.config
    bare = f"http://127.0.0.1:{config.port + 2}"
    processes.start(
        [
            PY,
            "-m",
            "gunicorn",
            "--workers",
            str(config.workers),
            "--worker-class",
            "sync",
            "--bind",
            bare[7:],
            "bench.tracking:bare_application",
        ],
        env,
        log_dir / "bare_tracking.log",
    )
    wait_http(f"{base}/t/{key}.js")
    _wait_post(f"{bare}/e")
    result = compare(
        product_base=base,
        bare_base=bare,
        key=key,
        redis_url=env["REDIS_URL"],
        seconds=config.seconds,
        warmup=config.warmup_seconds,
        runs=config.runs,
    )
    run.raw["tracking_events"] = result
    run.add(
        Row(
            path,
            "events/s @8",
            result["product"]["rps_c8"],
            result["bare"]["rps_c8"],
            unit="/s",
            goal="≥ 0.5×",
            note=f"reference: bare WSGI XADD to the same stream; non-2xx {result['product']['non_2xx']}",
        ),
        compare=">=",
        limit=0.5,
    )


def _wait_post(url: str, seconds: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=b"{}", method="POST")  # noqa: S310 - 127.0.0.1
            urllib.request.urlopen(request, timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s")


def main() -> int:
    """A tiny stand-alone run: python -m bench.tracking [site <slug>]."""
    if sys.argv[1:2] == ["site"]:
        print(_create_site(sys.argv[2]))
        return 0
    slug = os.environ.get("BENCH_TRACKING_ORG", "bench-tracking")
    port = int(os.environ.get("BENCH_TRACKING_PORT", "18190"))
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    workers = os.environ.get("BENCH_WORKERS", "2")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "600",
    }
    subprocess.run(
        [
            PY,
            "manage.py",
            "shell",
            "-c",
            f"from tests.factories import OrganizationFactory; OrganizationFactory(slug={slug!r})",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    key, reason = site_key(env, slug)
    if key is None:
        print(f"no site: {reason}")
        return 1
    product, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    gunicorn = [PY, "-m", "gunicorn", "--workers", workers, "--worker-class", "sync", "--bind"]
    started = [
        subprocess.Popen([*gunicorn, product[7:], "leadtrack.wsgi:application"], cwd=ROOT, env=env),
        subprocess.Popen([*gunicorn, bare[7:], "bench.tracking:bare_application"], cwd=ROOT, env=env),
    ]
    try:
        from bench.run import wait_http

        wait_http(f"{product}/t/{key}.js")
        _wait_post(f"{bare}/e")
        result = compare(
            product_base=product,
            bare_base=bare,
            key=key,
            redis_url=env["REDIS_URL"],
            seconds=seconds,
            warmup=1,
            runs=1,
        )
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=15)
    ratio = (result["product"]["rps_c8"] or 0) / (result["bare"]["rps_c8"] or 1)
    print(json.dumps(result, indent=2))
    print(
        f"tracking events/s: product {result['product']['rps_c8']:.0f}, bare {result['bare']['rps_c8']:.0f}, "
        f"ratio {ratio:.2f}× (goal ≥ 0.5×)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
