"""The page, its exports and its API over the seeded demo: sections, formats, isolation, permissions."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.roles import Role
from tests.factories import UserFactory, add_member, verify_second_factor

Q2 = "/o/robotix/reports/referrals/2025-Q2/"
ROBOTIX_NAMES = (
    "Robotix",
    "Partner Network",
    "Partner Certification Program",
    "Manufacturing",
    "robotix.example",
)


@pytest.fixture
def manager_client(robotix, client):
    user = UserFactory(email="qr-manager@robotix.example", full_name="Quinn Manager")
    add_member(robotix, user, Role.MANAGER)
    client.force_login(user)
    verify_second_factor(client, user)
    return client


@pytest.fixture
def viewer_client(robotix, client):
    user = UserFactory(email="qr-viewer@robotix.example", full_name="Quinn Viewer")
    add_member(robotix, user, Role.VIEWER)
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def test_page_shows_every_section_and_table(manager_client):
    response = manager_client.get(Q2)
    assert response.status_code == 200
    html = response.content.decode()
    for heading in (
        "Executive Summary",
        "Lead Volume Analysis",
        "Monthly Lead Volume Trends",
        "Geographic Distribution",
        "Conversion Metrics",
        "Funnel Performance",
        "Industry Breakdown",
        "Channel Performance",
        "Referral Source Performance",
        "Top Performing Campaigns",
        "Key Insights",
        "Recommendations",
        "Next Steps",
        "Appendix: Methodology",
    ):
        assert heading in html, heading
    assert 'id="monthly-chart"' in html and "<svg" in html
    assert '<th scope="row">April</th><td class="num">245</td>' in html
    assert "$380" in html and "315%" in html and "52%" in html
    assert "Flow rates over the quarter" in html and "Cohort rates" in html
    assert "style=" not in html.split("<main>")[1]  # strict CSP: no inline styles in the report


def test_latest_redirects_to_a_quarter(manager_client):
    response = manager_client.get("/o/robotix/reports/referrals/")
    assert response.status_code == 302
    assert response["Location"].startswith("/o/robotix/reports/referrals/") and "-Q" in response["Location"]


@pytest.mark.parametrize("path", ["2025-Q5/", "2025-Q0/"])
def test_unknown_quarter_is_404(manager_client, path):
    assert manager_client.get(f"/o/robotix/reports/referrals/{path}").status_code == 404


def test_bad_format_is_400(manager_client):
    response = manager_client.get(Q2 + "?format=docx")
    assert response.status_code == 400
    assert b"format" in response.content


def test_exports_parse(manager_client):
    markdown = manager_client.get(Q2 + "?format=md")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "attachment" in markdown["Content-Disposition"]
    assert "| April | 245 | 86 | 22 | 8 |" in markdown.content.decode()

    pdf = manager_client.get(Q2 + "?format=pdf").content
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2

    workbook = load_workbook(io.BytesIO(manager_client.get(Q2 + "?format=xlsx").content))
    assert workbook.sheetnames == [
        "summary",
        "monthly",
        "regions",
        "funnel",
        "industries",
        "sources",
        "campaigns",
    ]
    monthly = workbook["monthly"]
    assert [cell.value for cell in monthly[2]] == ["April", 245, 86, 22, 8]
    assert workbook["sources"]["E2"].value == 380
    assert all(cell.data_type != "f" for sheet in workbook for row in sheet.iter_rows() for cell in row)

    archive = zipfile.ZipFile(io.BytesIO(manager_client.get(Q2 + "?format=csv").content))
    assert sorted(archive.namelist()) == sorted(
        ["monthly.csv", "regions.csv", "funnel.csv", "industries.csv", "sources.csv", "campaigns.csv"]
    )
    regions = list(csv.reader(io.StringIO(archive.read("regions.csv").decode())))
    assert regions[0] == ["Region", "Lead Volume", "% of Total"]
    assert regions[1] == ["North America", "486", "52%"]


def test_viewer_reads_but_cannot_edit(viewer_client):
    assert viewer_client.get(Q2).status_code == 200
    assert b"Edit recommendations" not in viewer_client.get(Q2).content
    assert viewer_client.get(Q2 + "notes/").status_code == 403
    assert (
        viewer_client.post("/o/robotix/reports/referrals/subscription/", {"subscribe": "on"}).status_code
        == 403
    )


def test_manager_writes_recommendations_starting_from_the_insights(manager_client):
    form = manager_client.get(Q2 + "notes/")
    assert form.status_code == 200
    assert "Partner Network delivers the highest quality leads" in form.content.decode()
    response = manager_client.post(
        Q2 + "notes/",
        {
            "recommendations": "1. **Partner Program Enhancement**\n   - Tier-based rewards",
            "next_steps": "Launch",
        },
    )
    assert response.status_code == 302
    markdown = manager_client.get(Q2 + "?format=md").content.decode()
    assert "### Recommendations\n\n1. **Partner Program Enhancement**\n   - Tier-based rewards" in markdown
    assert "### Next Steps\n\nLaunch" in markdown
    # kept with Q2 only
    assert (
        "Partner Program Enhancement"
        not in manager_client.get("/o/robotix/reports/referrals/2025-Q1/?format=md").content.decode()
    )


def test_q1_shows_q4_2024_as_no_data(manager_client):
    html = manager_client.get("/o/robotix/reports/referrals/2025-Q1/").content.decode()
    assert "Previous quarter, Q4 2024:\n  <strong>no data</strong>" in html
    assert "Q4 2024 has no data" in html


def test_northwind_report_contains_no_robotix_data(northwind, client):
    user = UserFactory(email="qr-nw@northwind.example")
    add_member(northwind, user, Role.MANAGER)
    client.force_login(user)
    verify_second_factor(client, user)
    url = "/o/northwind/reports/referrals/2025-Q2/"
    page = client.get(url)
    assert page.status_code == 200
    outputs = [page.content] + [client.get(f"{url}?format={fmt}").content for fmt in ("md", "csv", "xlsx")]
    text = page.content.decode() + outputs[1].decode()
    assert "Northwind" in text
    for name in ROBOTIX_NAMES:
        assert name.encode() not in page.content and name.encode() not in outputs[1], name
    for blob in outputs[2:]:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in archive.namelist():
                content = archive.read(member)
                assert not any(name.encode() in content for name in ROBOTIX_NAMES), member


def test_other_organization_gets_404(northwind, client):
    outsider = UserFactory(email="qr-outsider@northwind.example")
    add_member(northwind, outsider, Role.ADMIN)
    client.force_login(outsider)
    verify_second_factor(client, outsider)
    assert client.get(Q2).status_code == 404
    assert client.get(Q2 + "?format=md").status_code == 404
    assert client.get(Q2 + "notes/").status_code == 404


def _api_client(org, scopes) -> APIClient:
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="Report reader", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_api_json_and_exports_for_read_keys(robotix, northwind):
    with_key = _api_client(robotix, ["read"])
    response = with_key.get("/api/v1/reports/referrals/2025-Q2/")
    assert response.status_code == 200
    data = response.json()
    assert [month["leads"] for month in data["monthly"]] == [245, 312, 378]
    assert data["funnel"][1]["rate"]["semantics"] == "flow"
    assert with_key.get("/api/v1/reports/referrals/2025-Q2/?format=md").content.startswith(b"# Lead Tracking")
    assert with_key.get("/api/v1/reports/referrals/2025-Q2/?format=pdf").content.startswith(b"%PDF")
    assert with_key.get("/api/v1/reports/referrals/2025-Q2/?format=docx").status_code == 400
    assert with_key.get("/api/v1/reports/referrals/2025-Q7/").status_code == 404

    other = _api_client(northwind, ["read"])
    northwind_data = other.get("/api/v1/reports/referrals/2025-Q2/").json()
    assert northwind_data["organization"]["slug"] == "northwind"
    assert "Partner Network" not in str(northwind_data)

    assert APIClient().get("/api/v1/reports/referrals/2025-Q2/").status_code == 401


def test_api_key_without_read_scope_is_refused(robotix):
    client = _api_client(robotix, ["write"])
    assert client.get("/api/v1/reports/referrals/2025-Q2/").status_code == 403


def test_demo_organizations_exist(robotix, northwind):
    assert Organization.objects.filter(slug__in=["robotix", "northwind"]).count() == 2
