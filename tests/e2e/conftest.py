"""Browser tests: Playwright's Python client driving Debian's chromium (no browser download).

Every test here gets ``page`` (a fresh browser context on the live server) and
``login_as``; the last page of each test is saved to tests/e2e/artifacts/.
Without /usr/bin/chromium the tests skip with the reason.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest

from tests.factories import TEST_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# fixtures here are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def login_as(page):
    """Log in through the real login form, as a person would."""

    def _login(user, password: str = TEST_PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        if "/accounts/mfa/" in page.url:
            pass_second_factor(page, user)
        return page

    return _login


def authenticator_code(user, *, secret: str | None = None) -> str:
    """What the person's authenticator app shows now: from the key on the setup page, or from the
    device already set up. A step the device has used is never offered again (django-otp refuses
    replays), so a second sign-in within 30 s takes the next step, inside the accepted drift."""
    import base64
    import time

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if secret is not None:
        key, last_t = base64.b32decode(secret.replace(" ", "")), -1
    else:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        key, last_t = device.bin_key, device.last_t
    totp = TOTP(key)
    totp.time = time.time()
    if last_t >= totp.t():
        totp.time += 30 * (last_t + 1 - totp.t())
    return f"{totp.token():06d}"


def pass_second_factor(page, user) -> None:
    """Set up the authenticator (first sign-in of an admin or manager) or type its code."""
    secret = page.locator("#mfa-secret")
    if secret.count():
        code = authenticator_code(user, secret=secret.inner_text())
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Turn on").click()
        page.get_by_role("link", name="Continue").click()
    else:
        page.get_by_label("Code").fill(authenticator_code(user))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state("networkidle")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def static_site(tmp_path):
    """A customer's plain static HTML site (python http.server) on its own port, in a thread:
    (directory to write pages into, its origin)."""
    port = _free_port()
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
