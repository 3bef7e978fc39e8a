"""The attribution and e-mail pages: choices by GET form, CSV, ownership (404) and roles (403)."""

from __future__ import annotations

import csv
import io

import pytest

from leadtrack.tenancy.context import tenant_context
from reports.attribution.models import EmailEndpoint
from tests.attribution.conftest import add_journey, add_no_touch

BASE = "/o/acme/dashboards/attribution/"
Q2 = "date_from=2025-04-01&date_to=2025-06-30"


@pytest.fixture
def journey(world):
    add_journey(world)
    add_no_touch(world)
    return world


def test_the_dashboard_shows_the_chosen_model_conversion_and_dimension(login, mike, journey):
    response = login(mike).get(f"{BASE}?{Q2}&model=linear&conversion=won&dimension=source")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Linear: The credit of a conversion is split equally" in html
    assert "2 leads reached Won in the range; credit shown: 2.00." in html
    table = html[html.index('data-testid="attribution-table"') : html.index("</table>")]
    # J's win in fifths (Partner twice), N in the bucket.
    assert '<th scope="row">Partner</th><td class="num">0.40</td>' in table
    assert '<th scope="row">newsletter</th><td class="num">0.20</td>' in table
    assert '<th scope="row">(no touchpoint)</th><td class="num">1.00</td>' in table
    assert "Position-based (40/20/40)" in html  # the other choices stay on offer


def test_the_dashboard_shows_campaign_returns_and_lead_kpis(login, mike, journey):
    html = login(mike).get(f"{BASE}?{Q2}&model=first_touch").content.decode()
    returns = html[html.index('data-testid="returns-table"') :]
    returns = returns[: returns.index("</table>")]
    # First touch: Cert gets J's win; spend $300 → CAC 300 USD; ROI (2000 - 300) / 300 = 5.67.
    cert = returns[returns.index('<th scope="row">Cert</th>') :]
    cert = cert[: cert.index("</tr>")]
    assert '<td class="num" data-metric="attributed_cac">300 USD</td>' in cert
    assert '<td class="num" data-metric="attributed_roi">5.67</td>' in cert
    idle = returns[returns.index('<th scope="row">Idle</th>') :]
    assert '<td class="num" data-metric="attributed_cac">—</td>' in idle[: idle.index("</tr>")]
    # Leads created in Q2: J (no source) and N (Partner, inbound); J was called and never answered.
    assert 'data-metric="inbound_leads">1</td>' in html
    assert 'data-metric="first_contact_engagement">0.0 %</td>' in html
    assert 'data-testid="source-quality"' in html


def test_the_csv_is_the_table(login, mike, journey):
    response = login(mike).get(
        f"{BASE}?{Q2}&model=position_based&conversion=won&dimension=campaign&format=csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "period_start",
        "period_end",
        "model",
        "conversion",
        "campaign",
        "credit",
        "won_amount",
        "leads",
    ]
    by_label = {row[4]: row for row in rows[1:]}
    assert set(by_label) == {"Cert", "spring-news", "(none)", "Spring ads", "(no touchpoint)"}
    assert float(by_label["Cert"][5]) == pytest.approx(0.8)
    assert float(by_label["Cert"][6]) == pytest.approx(80000)
    assert float(by_label["(no touchpoint)"][5]) == pytest.approx(1.0)
    assert by_label["Cert"][:4] == ["2025-04-01", "2025-06-30", "position_based", "won"]


@pytest.mark.parametrize(
    "query",
    [
        "model=w_shaped",
        "conversion=signup",
        "dimension=region",
        "date_from=2025-06-01&date_to=2025-05-01",
        "date_from=x",
    ],
)
def test_bad_choices_are_a_400_page_never_a_500(login, mike, world, query):
    response = login(mike).get(f"{BASE}?{query}")
    assert response.status_code == 400
    assert b"Check the filters" in response.content


def test_the_email_page_shows_rates_and_their_definitions(login, vera, org):
    response = login(vera).get(f"{BASE}email/?{Q2}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open rate" in html and "unique opens per message / delivered" in html
    assert '<td class="num" data-metric="email_open_rate">—</td>' in html
    csv_response = login(vera).get(f"{BASE}email/?{Q2}&format=csv")
    assert (
        csv_response.content.decode().splitlines()[1].startswith("2025-04-01,2025-06-30,All campaigns,0,,,")
    )


def test_the_settings_page_creates_shows_and_rotates_the_endpoint(login, mike, org):
    client = login(mike)
    page = client.get(f"{BASE}email/settings/")
    assert page.status_code == 200 and b"Create the endpoint" in page.content
    assert client.post(f"{BASE}email/settings/").status_code == 302
    with tenant_context(org):
        first = EmailEndpoint.objects.get()
    page = client.get(f"{BASE}email/settings/").content.decode()
    assert f"http://testserver/hooks/email/{first.key}" in page
    assert first.secret in page
    client.post(f"{BASE}email/settings/")
    with tenant_context(org):
        second = EmailEndpoint.objects.get()
    assert (second.key, second.secret) != (first.key, first.secret)
    assert second.rotated_at is not None


PAGES = ["", "email/", "email/settings/"]


@pytest.mark.parametrize("page", PAGES)
def test_another_organizations_member_gets_404(login, charlie, org, page):
    assert login(charlie).get(f"{BASE}{page}").status_code == 404


def test_another_organizations_member_cannot_rotate(login, charlie, org):
    assert login(charlie).post(f"{BASE}email/settings/").status_code == 404
    with tenant_context(org):
        assert not EmailEndpoint.objects.exists()


@pytest.mark.parametrize("page", ["", "email/"])
def test_a_sales_rep_cannot_see_the_dashboards(login, bob, page):
    assert login(bob).get(f"{BASE}{page}").status_code == 403


def test_a_viewer_sees_the_dashboards_but_not_the_secret(login, vera, org):
    client = login(vera)
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}email/settings/").status_code == 403
    assert client.post(f"{BASE}email/settings/").status_code == 403
    with tenant_context(org):
        assert not EmailEndpoint.objects.exists()


def test_the_dashboards_nav_links_attribution(login, mike, org):
    html = login(mike).get("/o/acme/dashboards/").content.decode()
    assert f'href="{BASE}"' in html
    assert f'href="{BASE}email/"' in html


def test_attributed_wins_are_shown_with_their_fractions(login, mike, journey):
    html = login(mike).get(f"{BASE}?{Q2}&model=position_based").content.decode()
    assert "wins credited by the position-based (40/20/40) model" in html
    returns = html[html.index('data-testid="returns-table"') :]
    cert = returns[returns.index('<th scope="row">Cert</th>') :]
    assert '<td class="num" data-metric="attribution_position_based">0.80</td>' in cert[: cert.index("</tr>")]
