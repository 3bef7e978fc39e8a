"""The seeded demo's Q2 2025 report carries the issue's figures (read from the report's data, not a page)."""

from __future__ import annotations

import pytest

from leadtrack.tenancy.context import tenant_context
from reports.quarterly.selectors import Quarter, quarterly_report


@pytest.fixture
def q2(robotix):
    with tenant_context(robotix):
        return quarterly_report(org=robotix, quarter=Quarter(2025, 2))


def test_monthly_flow(q2):
    assert [(m["label"], m["leads"], m["mqls"], m["sqls"], m["opportunities"]) for m in q2["monthly"]] == [
        ("April", 245, 86, 22, 8),
        ("May", 312, 104, 28, 11),
        ("June", 378, 142, 35, 14),
    ]


def test_regions_and_shares(q2):
    assert [(r["label"], r["leads"], r["share_percent"]) for r in q2["regions"]] == [
        ("North America", 486, 52),
        ("Europe", 245, 26),
        ("APAC", 156, 17),
        ("Other", 48, 5),
    ]
    assert sum(r["share_percent"] for r in q2["regions"]) == 100


def test_industries(q2):
    assert [(i["industry"], i["leads"]) for i in q2["industries"]] == [
        ("Manufacturing", 412),
        ("Automotive", 186),
        ("Electronics", 156),
        ("Logistics", 98),
        ("Other", 83),
    ]
    manufacturing = q2["industries"][0]
    assert (manufacturing["mql_rate"]["numerator"], manufacturing["mql_rate"]["denominator"]) == (164, 412)
    assert (manufacturing["sql_rate"]["numerator"], manufacturing["sql_rate"]["denominator"]) == (44, 164)
    assert {i["mql_rate"]["semantics"] for i in q2["industries"]} == {"cohort"}


def test_sources_and_cac(q2):
    assert [(s["source"], s["leads"], round(s["cac"] / 100)) for s in q2["sources"]] == [
        ("Partner Network", 486, 380),
        ("Customer Referrals", 245, 220),
        ("Industry Events", 156, 450),
        ("Employee Referrals", 48, 180),
    ]
    partner = q2["sources"][0]
    assert (partner["mqls"], partner["sqls"]) == (187, 48)


def test_campaigns_and_roi(q2):
    assert [(c["campaign"], c["leads"], round(c["roi"] * 100)) for c in q2["campaigns"]] == [
        ("Partner Certification Program", 186, 315),
        ("Customer Advocacy Program", 142, 280),
        ("Industry Summit Sponsorship", 98, 220),
    ]
    assert q2["campaigns"][0]["won"] == 4


def test_funnel_with_benchmarks(q2):
    rows = [
        (f["stage"], f["rate"]["numerator"], f["rate"]["denominator"], f["rate"]["semantics"], f["benchmark"])
        for f in q2["funnel"]
    ]
    assert rows == [
        ("Lead to MQL", 332, 935, "flow", 0.30),
        ("MQL to SQL", 85, 332, "flow", 0.20),
        ("SQL to Opportunity", 33, 85, "flow", 0.35),
        ("Opportunity to Close", 9, 33, "flow", 0.25),
    ]


def test_growth_and_segments(q2):
    growth = q2["growth"]
    assert (growth["previous_referral_leads"], growth["referral_leads"]) == (736, 935)
    assert round(growth["value"] * 100) == 27
    segments = q2["segments"]
    assert (segments["enterprise"]["mql_rate"]["numerator"], segments["enterprise"]["leads"]) == (98, 234)
    assert (segments["smb"]["mql_rate"]["numerator"], segments["smb"]["leads"]) == (104, 327)
    assert round(segments["lift"] * 100) == 32


def test_generated_text_carries_the_figures(q2):
    assert (
        q2["executive_summary"][0]
        == "Q2 2025 brought 935 referral-generated leads, 27% more than Q1 2025 (736)."
    )
    assert any(
        "Partner Network was the strongest channel with 486 leads (52%" in s for s in q2["executive_summary"]
    )
    assert any("26% (85 of 332, flow)" in s and "20% benchmark" in s for s in q2["executive_summary"])
    insights = "\n".join(q2["insights"])
    assert "Partner Network delivers the highest quality leads: 26%" in insights
    assert "Employee Referrals has the lowest CAC: $180" in insights
    assert "North America dominates lead volume: 486 of 935 referral leads (52%)" in insights
    assert "Manufacturing leads show the strongest progression" in insights
    assert "Enterprise leads convert 32% better than SMB leads" in insights


def test_q1_shows_q4_2024_as_no_data(robotix):
    with tenant_context(robotix):
        q1 = quarterly_report(org=robotix, quarter=Quarter(2025, 1))
    assert q1["growth"]["previous_has_data"] is False
    assert q1["growth"]["value"] is None
    assert q1["totals"]["leads"] == 736
    assert "Q4 2024 has no data" in q1["executive_summary"][0]
