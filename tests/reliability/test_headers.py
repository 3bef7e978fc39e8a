"""A2: security headers and cookies on HTML responses, with the settings production gets.

The production values are computed by importing leadtrack/settings.py in a
subprocess with a production environment (DEBUG off, a real SECRET_KEY, HTTPS
redirect on), then applied here, so the test reads what settings.py really
gives production rather than a copy of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test.utils import override_settings

from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SECURITY_SETTINGS = (
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
)
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-" + "Qm7Zt2Lx9Vb4Nc8Rw1Ys6Pa3Kd5Fh0Jg" * 2,
    "ALLOWED_HOSTS": "crm.example.com",
    "SECURE_SSL_REDIRECT": "true",
    # Settings never connect at import; these only stop the embedded servers from starting.
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        f"print(json.dumps({{k: getattr(s, k, None) for k in {list(SECURITY_SETTINGS)!r}}}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_COOKIES", "SESSION_COOKIE_AGE"}}
    env |= PRODUCTION_ENV | {
        "DJANGO_SETTINGS_MODULE": "leadtrack.settings",
        "LEADTRACK_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _header_problems(response) -> list[str]:
    problems = []
    hsts = response.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    if not max_age or int(max_age.group(1)) < 31_536_000 or "includeSubDomains" not in hsts:
        problems.append(f"HSTS {hsts!r}")
    csp = _csp_directives(response.get("Content-Security-Policy", ""))
    for directive in ("script-src", "style-src"):
        sources = csp.get(directive, csp.get("default-src"))
        if not sources or {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources):
            problems.append(f"CSP {directive} {sources}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors {csp.get('frame-ancestors')}")
    if csp.get("object-src") != ["'none'"]:
        problems.append(f"CSP object-src {csp.get('object-src')}")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    problems += [
        f"{name}: {response.get(name)!r}" for name, value in expected.items() if response.get(name) != value
    ]
    return problems


def _cookie_problems(cookie, *, max_age: int | None = None) -> list[str]:
    problems = [f"{cookie.key} not {flag}" for flag in ("secure", "httponly") if not cookie[flag]]
    if cookie["samesite"] not in ("Lax", "Strict"):
        problems.append(f"{cookie.key} samesite={cookie['samesite']!r}")
    if max_age is not None and int(cookie["max-age"] or 0) != max_age:
        problems.append(f"{cookie.key} max-age={cookie['max-age']!r}")
    return problems


def test_html_pages_and_cookies_carry_every_protection(client, production_settings, alice, org):
    """Anonymous and signed-in pages over HTTPS; the session and CSRF cookies from a real sign-in."""
    prod = {k: v for k, v in production_settings.items() if k != "DEBUG"}
    assert production_settings["DEBUG"] is False
    with override_settings(**prod):
        pages = ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"]
        problems = {page: _header_problems(client.get(page, secure=True)) for page in pages}
        login_page = client.get("/accounts/login/", secure=True)
        cookie_problems = _cookie_problems(login_page.cookies["csrftoken"])
        response = client.post(
            "/accounts/login/", {"username": alice.email, "password": TEST_PASSWORD}, secure=True
        )
        assert response.status_code == 302, "sign-in failed"
        cookie_problems += _cookie_problems(response.cookies["sessionid"], max_age=prod["SESSION_COOKIE_AGE"])
        signed_in = ["/", f"/o/{org.slug}/", f"/o/{org.slug}/settings/members/", "/accounts/password_change/"]
        for page in signed_in:
            response = client.get(page, secure=True, follow=False)
            problems[page] = _header_problems(response)
        # Plain HTTP is redirected to HTTPS before anything else happens.
        insecure = client.get("/accounts/login/")
    missing = sum(len(p) for p in problems.values()) + len(cookie_problems)
    print(
        f"\n[A2] pages={len(problems)} headers_per_page=8 cookies=2 missing={missing} "
        f"http_redirect={insecure.status_code}"
    )
    assert {page: p for page, p in problems.items() if p} == {}
    assert cookie_problems == []
    assert insecure.status_code == 301 and insecure["Location"].startswith("https://")


def test_json_responses_are_not_sniffed_or_framed(client, production_settings, db):
    prod = {k: v for k, v in production_settings.items() if k != "DEBUG"}
    with override_settings(**prod):
        response = client.get("/healthz", secure=True)
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "max-age=31536000" in response["Strict-Transport-Security"]
