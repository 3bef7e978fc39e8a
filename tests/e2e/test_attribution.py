"""A marketing manager reads attribution and e-mail engagement in the browser.

1. From the dashboards, the Attribution tab; picks a model, a conversion and a dimension in the GET
   form; reads the credits; downloads the CSV.
2. Creates the e-mail events endpoint, copies its URL and secret from the page; an e-mail service
   posts a signed event; the E-mail tab shows the open rate.
3. UTM values come from anonymous visitors: payloads in them stay text on every attribution view.
"""

from __future__ import annotations

import json
import time
import urllib.request

from funnel.services import stage_move
from leads.models import ActivityKind
from leads.services import activity_log, lead_create
from leadtrack.api.webhooks import sign
from leadtrack.tenancy.context import tenant_context
from tests.attribution.conftest import add_journey, add_no_touch, build_world, ny
from tests.e2e.xss import PAYLOADS, XssSweep


def test_manager_chooses_a_model_and_downloads_the_credits(page, login_as, org, mike, transactional_db):
    world = build_world(org)
    add_journey(world)
    add_no_touch(world)
    login_as(mike)
    page.goto(f"/o/{org.slug}/dashboards/")
    page.get_by_role("link", name="Attribution").click()
    page.wait_for_load_state("networkidle")
    page.locator("#id_date_from").fill("2025-04-01")
    page.locator("#id_date_to").fill("2025-06-30")
    page.locator("#id_model").select_option("linear")
    page.locator("#id_conversion").select_option("won")
    page.locator("#id_dimension").select_option("source")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    table = page.get_by_test_id("attribution-table")
    rows = {
        row.locator("th").inner_text(): row.locator("td").first.inner_text()
        for row in table.locator("tbody tr").all()
    }
    # The journey's win in fifths (Partner: t1 and t5); the lead without touchpoints in its bucket.
    assert rows == {
        "Partner": "0.40",
        "Ads": "0.20",
        "newsletter": "0.20",
        "(none)": "0.20",
        "(no touchpoint)": "1.00",
    }
    assert (
        "2 leads reached Won in the range; credit shown: 2.00."
        in page.get_by_test_id("reconcile").inner_text()
    )
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    lines = download_info.value.path().read_text().splitlines()
    assert lines[0] == "period_start,period_end,model,conversion,source,credit,won_amount,leads"
    assert len(lines) == 6


def test_manager_connects_the_email_service_and_sees_the_open_rate(
    page, login_as, org, mike, live_server, transactional_db
):
    login_as(mike)
    page.goto(f"/o/{org.slug}/dashboards/attribution/email/")
    page.get_by_role("link", name="endpoint and secret").click()
    page.get_by_role("button", name="Create the endpoint").click()
    page.wait_for_load_state("networkidle")
    url = page.get_by_test_id("endpoint-url").inner_text()
    secret = page.get_by_test_id("endpoint-secret").inner_text()
    assert url.startswith(f"{live_server.url}/hooks/email/")
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    events = [
        {
            "id": f"e{n}",
            "type": kind,
            "message_id": message,
            "email": f"{message}@client.example",
            "campaign": "Launch",
            "occurred_at": now,
        }
        for n, (kind, message) in enumerate([("delivered", "m1"), ("delivered", "m2"), ("open", "m1")])
    ]
    body = json.dumps({"events": events}).encode()
    timestamp = int(time.time())
    # The live server's http URL, as the page shows it.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-LeadTrack-Timestamp": str(timestamp),
            "X-LeadTrack-Signature": sign(secret=secret, timestamp=timestamp, body=body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert json.loads(response.read()) == {"received": 3, "stored": 3, "duplicates": 0}
    page.goto(f"/o/{org.slug}/dashboards/attribution/email/")
    launch = page.get_by_test_id("email-table").locator("tr", has_text="Launch")
    assert launch.locator('[data-metric="email_open_rate"]').inner_text() == "50.0 %"


def test_utm_values_from_visitors_stay_text(page, login_as, org, mike, transactional_db):
    sweep = XssSweep(page)
    org.time_zone = "America/New_York"
    org.save()
    payloads = [payload for payload in PAYLOADS if len(payload) <= 200]
    with tenant_context(org):
        for n, payload in enumerate(payloads):
            lead = lead_create(org=org, actor=None, data={"company": f"Visitor {n}"}, created_at=ny(5, 1))
            activity_log(
                org=org,
                actor=None,
                lead_id=lead.pk,
                kind=ActivityKind.PAGE_VISIT,
                occurred_at=ny(4, 30),
                url=f"https://acme.example/p{n}",
                utm_source=payload,
                utm_medium=payload,
                utm_campaign=payload,
            )
            stage_move(org=org, actor=None, lead_id=lead.pk, to_stage="mql", at=ny(5, 2))
    login_as(mike)
    base = f"/o/{org.slug}/dashboards/attribution/?date_from=2025-04-01&date_to=2025-06-30&conversion=mql"
    for dimension in ("source", "campaign", "channel"):
        sweep.visit(f"{base}&dimension={dimension}", expect_text=payloads)
    report = sweep.report("attribution UTM labels")
    for finding in report.pages:
        assert (finding.dialogs, finding.hits, finding.not_visible) == ([], [], []), finding.url
        # The chart's data island (json_script, type application/json) is the page's one inline
        # script body, and plotly's run-time inline styles are what the CSP refuses on every chart
        # page; any other injected element or CSP violation would be a payload's.
        assert [
            el
            for el in finding.injected
            if not el.startswith('<script id="chart-data" type="application/json">')
        ] == []
        assert [v for v in finding.csp if "style" not in v] == []
