"""Tracking in a real browser: a plain static site on another port pastes the snippet.

A visitor arrives with ?utm_source=partner&utm_campaign=cert and browses two more pages; the
events (sendBeacon, cross-origin, text/plain) reach the stream, are drained, and the tracking
page, the Web traffic dashboard and, once identified, the lead's timeline show them.
Do-Not-Track and consent are checked the same way.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from capture.signals import visitor_identified
from capture.tracking import services, stream
from capture.tracking.models import PageView
from capture.tracking.selectors import site_cache_forget
from leadtrack.tenancy.context import tenant_context
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_lead

PAGES = {
    "index.html": ("Home", '<a href="pricing.html">Pricing</a>'),
    "pricing.html": ("Pricing", '<a href="contact.html">Contact</a>'),
    "contact.html": (
        "Contact",
        '<form data-leadtrack-form action="#"><input type="hidden" name="lt_vid"><input name="email"></form>',
    ),
    "consent.html": (
        "Consent",
        '<button id="accept" type="button">Accept cookies</button>'
        "<script>document.getElementById('accept').addEventListener('click', function () {"
        " window.leadtrack('consent', true); });</script>",
    ),
}
STUB = (
    "<script>window.leadtrack=window.leadtrack||function(){"
    "(window.leadtrack.q=window.leadtrack.q||[]).push(arguments)};</script>"
)


def write_pages(directory: Path, script_src: str) -> None:
    """The customer's pages, each pasting the snippet (served by the static_site fixture)."""
    for name, (title, body) in PAGES.items():
        (directory / name).write_text(
            f"<!doctype html><html><head><title>{title}</title>{STUB}</head><body><h1>{title}</h1>{body}"
            f'<script async src="{script_src}"></script></body></html>'
        )


@contextlib.contextmanager
def _serving(static_site, script_src: str):
    directory, origin = static_site
    write_pages(directory, script_src)
    yield origin


def wait_for_stream(length: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while stream.length() < length and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.length() == length


@pytest.fixture
def tracked_site(org, transactional_db):
    stream.clear()
    site_cache_forget()
    with tenant_context(org):
        site = services.site_create(org=org, actor=None, name="Static site", allowed_domains=["127.0.0.1"])
    yield site
    stream.clear()
    site_cache_forget()


def test_a_visitor_from_a_partner_campaign_browses_three_pages(
    page, login_as, org, alice, tracked_site, live_server, static_site
):
    with _serving(static_site, f"{live_server.url}/t/{tracked_site.key}.js") as site_url:
        page.goto(f"{site_url}/index.html?utm_source=partner&utm_campaign=cert")
        wait_for_stream(1)
        page.get_by_role("link", name="Pricing").click()
        page.wait_for_load_state()
        wait_for_stream(2)
        page.get_by_role("link", name="Contact").click()
        page.wait_for_load_state()
        wait_for_stream(3)
        visitor_id = next(c["value"] for c in page.context.cookies() if c["name"] == "lt_vid")
        assert page.locator('input[name="lt_vid"]').input_value() == visitor_id
        assert page.locator('input[name="utm_campaign"]').input_value() == "cert"

    assert services.page_views_drain() == 3
    assert stream.length() == 0
    with tenant_context(org):
        views = list(
            PageView.objects.order_by("occurred_at").values(
                "path", "utm_source", "utm_campaign", "is_landing", "visit_id", "visitor_id"
            )
        )
    assert [v["path"] for v in views] == ["/index.html", "/pricing.html", "/contact.html"]
    assert {(v["utm_source"], v["utm_campaign"]) for v in views} == {
        ("partner", "cert")
    }  # the landing UTM, kept
    assert [v["is_landing"] for v in views] == [True, False, False]
    assert len({v["visit_id"] for v in views}) == 1
    assert {v["visitor_id"] for v in views} == {visitor_id}

    login_as(alice)
    page.goto(f"/o/{org.slug}/tracking/{tracked_site.pk}/")
    table = page.get_by_test_id("page-views").inner_text()
    assert "3 page views recorded" in page.content()
    assert table.count("partner / / cert") == 3
    # The tables are the page (the chart library is large): no need to wait for it to load.
    page.goto(f"/o/{org.slug}/tracking/traffic/", wait_until="domcontentloaded")
    page.get_by_label("By").select_option("week")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**grain=week**", wait_until="domcontentloaded")
    totals = page.get_by_test_id("web-totals")
    assert totals.locator('tr[data-metric="website_traffic"] td.num').inner_text() == "1"
    assert totals.locator('tr[data-metric="page_views"] td.num').inner_text() == "3"
    assert totals.locator('tr[data-metric="unique_visitors"] td.num').inner_text() == "1"
    assert "partner" in page.get_by_test_id("web-sources").inner_text()
    assert "100.0 %" in page.get_by_test_id("web-sources").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tracking_web_traffic.png"), full_page=True)

    lead = make_lead(org, email="visitor@partner.example")
    visitor_identified.send(
        sender=None, organization_id=org.pk, lead_id=lead.pk, visitor_id=visitor_id, via="form"
    )
    page.goto(f"/o/{org.slug}/leads/{lead.pk}/")
    timeline = page.locator(".timeline").inner_text()
    assert timeline.count("Page visit") == 3
    assert timeline.count("UTM: partner / / cert") == 3


def _script_ran_without_tracking(page) -> None:
    page.wait_for_function("window.__leadtrackLoaded === true")
    # visitorId() sets the cookie before any event is sent: no cookie, no event.
    assert not any(c["name"] == "lt_vid" for c in page.context.cookies())
    assert page.evaluate("window.localStorage.getItem('lt_vid')") is None


def test_do_not_track_browsers_are_not_tracked(browser, org, tracked_site, live_server, static_site):
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});")
    dnt_page = context.new_page()
    try:
        with _serving(static_site, f"{live_server.url}/t/{tracked_site.key}.js") as site_url:
            dnt_page.goto(f"{site_url}/index.html?utm_source=partner")
            _script_ran_without_tracking(dnt_page)
            dnt_page.get_by_role("link", name="Pricing").click()
            _script_ran_without_tracking(dnt_page)
        assert stream.length() == 0
    finally:
        context.close()


def test_nothing_is_tracked_before_consent(page, org, tracked_site, live_server, static_site):
    with tenant_context(org):
        services.site_update(
            org=org,
            site_id=tracked_site.pk,
            name="Static site",
            allowed_domains=["127.0.0.1"],
            honour_do_not_track=True,
            require_consent=True,
            is_active=True,
        )
    site_cache_forget()
    with _serving(static_site, f"{live_server.url}/t/{tracked_site.key}.js") as site_url:
        page.goto(f"{site_url}/consent.html")
        _script_ran_without_tracking(page)
        assert stream.length() == 0
        page.get_by_role("button", name="Accept cookies").click()
        wait_for_stream(1)
        assert any(c["name"] == "lt_vid" for c in page.context.cookies())
        page.goto(f"{site_url}/index.html")  # consent remembered on the next page
        wait_for_stream(2)
