"""Settings come from the environment; health reports the real services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _run_python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    base.update({"DJANGO_SETTINGS_MODULE": "leadtrack.settings", "LEADTRACK_VAR_DIR": str(tmp_path / "var")})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


def test_urls_from_the_environment_are_used_and_nothing_is_started(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "d = s.DATABASES['default'];"
        "print(json.dumps([d['HOST'], d['PORT'], d['NAME'], d['USER'],"
        " s.REDIS_URL, s.DEBUG, s.CELERY_BROKER_URL]))"
    )
    result = _run_python(
        code,
        {
            "DATABASE_URL": "postgres://someone@db.internal:6543/crm",
            "REDIS_URL": "redis://cache.internal:6380/2",
            "SECRET_KEY": "x" * 60,
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    host, port, name, user, redis_url, debug, broker = json.loads(result.stdout.strip().splitlines()[-1])
    assert (host, int(port), name, user) == ("db.internal", 6543, "crm", "someone")
    assert redis_url == broker == "redis://cache.internal:6380/2"
    assert debug is False
    assert not (tmp_path / "var" / "postgres").exists()
    assert not (tmp_path / "var" / "redis").exists()


def test_the_test_run_uses_postgresql_never_sqlite():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_production_settings_pass_the_deploy_check(tmp_path):
    """A1: `check --deploy --fail-level WARNING` with production settings exits 0."""
    db = settings.DATABASES["default"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            # The browser tests' async-unsafe switch is a test-process setting, not production's.
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DEBUG": "false",
            "SECRET_KEY": "k3y-" + "z9Qx7Lm2Vb8Nc4Rt6Yu1Io0Pa5Sd3Fg" * 2,
            "ALLOWED_HOSTS": "crm.example.com",
            "SECURE_SSL_REDIRECT": "true",
            "SECURE_HSTS_PRELOAD": "true",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        },
    )
    warnings = result.stdout.count("WARNINGS") + result.stderr.count("?: (security")
    print(f"\n[A1] deploy check exit={result.returncode} warnings={warnings}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthz_is_200_when_database_and_redis_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(tmp_path):
    db = settings.DATABASES["default"]
    code = (
        "import django; django.setup(); from django.test import Client;"
        "r = Client().get('/healthz'); print(r.status_code, r.json()['redis'][:5])"
    )
    result = _run_python(
        code,
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            # Nothing listens on port 1 of the loopback address.
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
        tmp_path,
    )
    assert result.stdout.strip().splitlines()[-1] == "503 error", result.stderr


def test_html_responses_carry_the_security_headers(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_cache_keeps_one_redis_client_per_pool_and_still_reads_and_writes(db):
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client  # Django's own builds one per call
    cache.set("health:probe", {"a": 1}, 30)
    assert cache.get("health:probe") == {"a": 1}
    assert cache.add("health:probe", "other", 30) is False
    cache.delete("health:probe")
    assert cache.get("health:probe") is None
