"""Issue 9, tried as a new user would in a real browser: an admin builds a form and a tracking site,
pastes both snippets into a plain static site served from another port; a visitor arrives with
?utm_source=partner&utm_campaign=cert, browses two pages and submits. The lead appears with its three
page-visit touchpoints, routed and scored (and promoted to MQL by its score), and the attribution
dashboard credits the campaign."""

from __future__ import annotations

import time

from django.utils import timezone
from playwright.sync_api import expect

from capture.tracking import services as tracking_services
from capture.tracking import stream
from capture.tracking.selectors import site_cache_forget
from funnel.stages import Stage
from leads.models import Activity, ActivityKind, Lead
from leadtrack.tenancy.context import tenant_context
from tests.e2e.test_scoring import _new_rule

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script>window.leadtrack=window.leadtrack||function(){{(window.leadtrack.q=window.leadtrack.q||[]).push(arguments)}};</script>
</head><body><h1>{title}</h1>{body}
{tracking}
</body></html>
"""


def _wait_for_stream(length: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while stream.length() < length and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.length() == length


def test_a_visitor_from_a_partner_campaign_becomes_a_routed_scored_attributed_lead(
    page,
    browser,
    live_server,
    login_as,
    org,
    alice,
    bob,
    static_site,
    transactional_db,
):
    site_dir, site_origin = static_site
    stream.clear()
    site_cache_forget()
    login_as(alice)

    # Scoring: a form submission is worth 30 points, and 30 makes an MQL.
    page.get_by_role("link", name="Lead scoring").first.click()
    _new_rule(page, "Filled a form", "Activity logged", 30, Activity="Web form submission")
    page.get_by_label("Promote to MQL automatically").check()
    page.get_by_label("MQL threshold (score)").fill("30")
    page.get_by_role("button", name="Save settings").click()

    # Routing: web leads go to Bob.
    page.get_by_role("link", name="Routing", exact=True).click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name:", exact=True).fill("Web leads to Bob")
    page.get_by_label("Action:", exact=True).select_option(label="Assign to a person")
    page.get_by_label("Person:", exact=True).select_option(label="Bob Rep")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#routing-rules tbody tr")).to_have_count(1)

    # Tracking: a site and its snippet.
    page.get_by_role("link", name="Tracking", exact=True).click()
    page.get_by_label("Name:", exact=True).fill("Acme robots site")
    page.get_by_label("Allowed domains:", exact=True).fill("127.0.0.1")
    page.get_by_role("button", name="Add site").click()
    tracking_snippet = page.get_by_test_id("snippet").inner_text()
    assert f"{live_server.url}/t/" in tracking_snippet

    # The form, built in the browser.
    page.get_by_role("link", name="Forms", exact=True).click()
    page.get_by_role("link", name="New form").click()
    page.get_by_label("Name:", exact=True).fill("Contact us")
    page.get_by_label("Ask for contact_name").check()
    page.get_by_label("Label of contact_name").fill("Your name")
    page.get_by_label("Ask for email").check()
    page.get_by_label("email is required").check()
    page.get_by_label("Ask for company").check()
    page.get_by_label("Button text").fill("Talk to us")
    page.get_by_label("Thank you message").fill("Thanks, we will be in touch.")
    page.get_by_label("Allowed sites").fill(site_origin)
    page.get_by_label("Minimum seconds to submit").fill("1")
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text("Saved the form “Contact us”.")).to_be_visible()
    form_snippet = page.locator("#snippet-script").input_value()

    # The customer's static site: three pages, the tracking snippet on each, the form on the last.
    pages = {
        "index.html": ("Acme robots", '<a href="pricing.html">Pricing</a>'),
        "pricing.html": ("Pricing", '<a href="contact.html">Contact</a>'),
        "contact.html": ("Contact", form_snippet),
    }
    for name, (title, body) in pages.items():
        (site_dir / name).write_text(PAGE.format(title=title, body=body, tracking=tracking_snippet))

    visitor = browser.new_context()
    visit = visitor.new_page()
    visit.goto(f"{site_origin}/index.html?utm_source=partner&utm_campaign=cert")
    _wait_for_stream(1)
    visit.get_by_role("link", name="Pricing").click()
    _wait_for_stream(2)
    visit.get_by_role("link", name="Contact").click()
    _wait_for_stream(3)
    visit.get_by_label("Your name").fill("Vera Visitor")
    visit.get_by_label("E-mail").fill("vera@bigrobots.example")
    visit.get_by_label("Company").fill("Big Robots")
    visit.wait_for_timeout(1200)  # a person takes longer than the form's minimum of 1 s
    visit.get_by_role("button", name="Talk to us").click()
    expect(visit.get_by_text("Thanks, we will be in touch.")).to_be_visible()
    visitor.close()
    # The beat task's work: the stream's page views into PostgreSQL.
    assert tracking_services.page_views_drain() == 3

    with tenant_context(org):
        lead = Lead.objects.select_related("owner").get(email="vera@bigrobots.example")
        visits = list(
            Activity.objects.filter(lead=lead, kind=ActivityKind.PAGE_VISIT)
            .order_by("occurred_at")
            .values_list("url", "utm_source", "utm_campaign")
        )
    assert [url.rsplit("/", 1)[-1].split("?")[0] for url, _, _ in visits] == list(pages)
    assert {(source, campaign) for _, source, campaign in visits} == {("partner", "cert")}
    assert lead.owner == bob
    assert (lead.score, lead.stage) == (30, Stage.MQL)

    # The lead page: three page visits and the form on the timeline, routed and explained.
    page.goto(f"/o/{org.slug}/leads/{lead.pk}/")
    timeline = page.locator(".timeline")
    expect(timeline.get_by_text("Page visit")).to_have_count(3)
    expect(page.get_by_text("Routed by rule Web leads to Bob")).to_be_visible()
    expect(page.get_by_test_id("lead-score")).to_have_text("30")

    # Attribution: first touch, MQLs, per campaign: the campaign gets the credit.
    page.goto(f"/o/{org.slug}/dashboards/attribution/")
    today = timezone.localdate().isoformat()
    page.locator("#id_date_from").fill(today)
    page.locator("#id_date_to").fill(today)
    page.locator("#id_model").select_option("first_touch")
    page.locator("#id_conversion").select_option("mql")
    page.locator("#id_dimension").select_option("campaign")
    page.get_by_role("button", name="Apply").click()
    credits = {
        row.locator("th").inner_text(): row.locator("td").first.inner_text()
        for row in page.get_by_test_id("attribution-table").locator("tbody tr").all()
    }
    assert credits == {"cert": "1.00"}
    print(
        f"Issue 9 flow: 3 page visits + 1 form → lead {lead.pk}, owner {bob.email}, score 30, MQL; {credits}"
    )
    assert page.dialogs == []
    stream.clear()
