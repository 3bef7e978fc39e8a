"""Load generation on 127.0.0.1 only, bounded in time and count, stopping by itself.

``wrk`` (Debian package) when installed; otherwise a small closed-loop Python
generator with the same outputs. ``open_loop`` sends a fixed request rate
(the mixed list/create load) and measures latency from each request's
scheduled start, so a stalled server is not hidden (no coordinated omission).
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LUA_POST = Path(__file__).with_name("wrk_post.lua")
# Hard ceiling for any one measurement, whatever the configuration says.
MAX_SECONDS = 120
MAX_REQUESTS = 2_000_000


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int = 0
    errors: int = 0
    tool: str = ""
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    p95_ms: float | None = None
    statuses: dict[int, int] = field(default_factory=dict)  # HTTP status → responses (Python generators)


def _check_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load is generated against 127.0.0.1 only, not {host}")


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    result = Result(tool="wrk")
    if match := re.search(r"^\s+50%\s+(\S+)", output, re.M):
        result.p50_ms = _ms(match.group(1))
    if match := re.search(r"^\s+99%\s+(\S+)", output, re.M):
        result.p99_ms = _ms(match.group(1))
    if match := re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output):
        result.requests = int(match.group(1))
        result.seconds = _ms(match.group(2) + match.group(3)) / 1000
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.rps = float(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result.non_2xx = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.errors = sum(int(g) for g in match.groups())
    return result


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    post_body: str | None = None,
) -> Result:
    _check_local(url)
    seconds = max(1, min(round(seconds), MAX_SECONDS))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    env = dict(os.environ)
    if post_body is not None:
        command += ["-s", str(LUA_POST)]
        env["WRK_BODY"] = post_body
    command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 30)
    return parse_wrk(completed.stdout)


def _request(conn, method: str, path: str, headers: dict[str, str], body: bytes | None) -> int:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_python(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    post_body: str | None = None,
) -> Result:
    """Closed loop: ``connections`` keep-alive clients, each sending as fast as answers come."""
    _check_local(url)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + min(seconds, MAX_SECONDS)
    counter = itertools.count(1)
    latencies: list[float] = []
    statuses: list[int] = []
    errors = [0]
    lock = threading.Lock()
    send_headers = {**(headers or {})}
    if post_body is not None:
        send_headers["Content-Type"] = "application/json"

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            n = next(counter)
            if n > MAX_REQUESTS:
                break
            body = post_body.replace("{n}", str(n)).encode() if post_body is not None else None
            started = time.perf_counter()
            try:
                status = _request(conn, "POST" if body else "GET", path, send_headers, body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.append(status)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MAX_SECONDS + 15)
    elapsed = time.monotonic() - started
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        rps=len(latencies) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        non_2xx=sum(1 for s in statuses if not 200 <= s < 400),
        errors=errors[0],
        tool="python",
    )


def measure(url: str, *, post_body: str | None = None, **kwargs) -> Result:
    """wrk when installed, else the Python generator. ``{run}`` in a POST body becomes a value
    unique to this call (with ``{n}``, unique per request), so repeated runs create new rows."""
    if post_body is not None:
        post_body = post_body.replace("{run}", str(time.time_ns()))
    run = run_wrk if have_wrk() else run_python
    return run(url, post_body=post_body, **kwargs)


def open_loop(
    base_url: str,
    *,
    rate: float,
    seconds: float,
    pick: Callable[[int], tuple[str, str, dict[str, str], bytes | None]],
    connections: int = 16,
) -> Result:
    """Send ``rate`` requests per second for ``seconds``; ``pick(n)`` gives (method, path, headers, body)."""
    _check_local(base_url)
    parts = urlsplit(base_url)
    seconds = min(seconds, MAX_SECONDS)
    total = min(int(rate * seconds), MAX_REQUESTS)
    start = time.monotonic() + 0.2
    schedule = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: list[int] = []
    errors = [0]

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while True:
            with lock:
                n = next(schedule, None)
            if n is None:
                break
            due = start + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            method, path, headers, body = pick(n)
            try:
                status = _request(conn, method, path, headers, body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append((time.monotonic() - due) * 1000)
                statuses.append(status)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = max(time.monotonic() - start, 1e-9)
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        non_2xx=sum(1 for s in statuses if not 200 <= s < 400),
        errors=errors[0],
        tool="python-open-loop",
        latencies_ms=latencies,
        statuses=dict(Counter(statuses)),
    )


def median_of(results: list[Result], attribute: str) -> float | None:
    values = [getattr(r, attribute) for r in results if getattr(r, attribute) is not None]
    return statistics.median(values) if values else None
