"""The report's tables as the reference lays them out: headings, columns and printed cells.

The page, the Markdown, the PDF, the workbook and the CSV files all render these,
so every format shows the same columns and the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reports.quarterly.formatting import count, money, percent, rate_text

# Kinds of number a cell holds (the workbook formats them; text has none).
COUNT, PERCENT, MONEY = "count", "percent", "money"


@dataclass(frozen=True)
class Cell:
    text: str
    number: float | None = None  # what a spreadsheet stores: counts, fractions, major money units
    kind: str = ""


@dataclass(frozen=True)
class Table:
    key: str  # file and sheet name
    section: str  # the reference's ### heading the table sits under
    title: str  # the reference's #### heading
    note: str  # which definition its rates use
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _count(value: float) -> Cell:
    return Cell(count(value), value, COUNT)


def _rate(rate: dict[str, Any] | None, decimals: int = 0) -> Cell:
    value = None if rate is None else rate["value"]
    return Cell(rate_text(rate, decimals=decimals), value, PERCENT if value is not None else "")


def _money(minor: float | None, currency: str) -> Cell:
    if minor is None:
        return Cell(money(None, currency))
    return Cell(money(minor, currency), round(minor / 100), MONEY)


def as_of_text(report: dict[str, Any]) -> str:
    """The data as-of time in the organization's zone: "2025-07-01 00:00 (America/New_York)"."""
    zone = report["organization"]["time_zone"]
    as_of = datetime.fromisoformat(report["as_of"]).astimezone(ZoneInfo(zone))
    return f"{as_of:%Y-%m-%d %H:%M} ({zone})"


def report_tables(report: dict[str, Any]) -> list[Table]:
    currency = report["organization"]["currency"]
    considered = report["campaigns_considered"]
    return [
        Table(
            "monthly",
            "Lead Volume Analysis",
            "Monthly Lead Volume Trends",
            "Flow: leads created in the month, and leads that first reached MQL, SQL or Opportunity "
            "(or a later stage) in the month.",
            ["Month", "Total Leads", "MQLs", "SQLs", "Opportunities"],
            [
                [
                    Cell(month["label"]),
                    _count(month["leads"]),
                    _count(month["mqls"]),
                    _count(month["sqls"]),
                    _count(month["opportunities"]),
                ]
                for month in report["monthly"]
            ],
        ),
        Table(
            "regions",
            "Lead Volume Analysis",
            "Geographic Distribution",
            "Referral leads created in the quarter by region; shares are reconciled to add up to 100% "
            "(largest remainder).",
            ["Region", "Lead Volume", "% of Total"],
            [
                [
                    Cell(region["label"]),
                    _count(region["leads"]),
                    Cell(f"{region['share_percent']}%", region["share_percent"] / 100, PERCENT),
                ]
                for region in report["regions"]
            ],
        ),
        Table(
            "funnel",
            "Conversion Metrics",
            "Funnel Performance",
            "Flow rates over the quarter: leads reaching the later stage in the quarter / leads reaching "
            "the earlier one in the quarter. Benchmarks are the organization's (report settings).",
            ["Stage", "Conversion Rate", "Industry Benchmark"],
            [
                [
                    Cell(stage["stage"]),
                    _rate(stage["rate"]),
                    Cell(percent(stage["benchmark"]), stage["benchmark"], PERCENT),
                ]
                for stage in report["funnel"]
            ],
        ),
        Table(
            "industries",
            "Conversion Metrics",
            "Industry Breakdown",
            "Cohort rates of the referral leads created in the quarter: MQL Rate = reached MQL / leads, "
            "SQL Rate = reached SQL / reached MQL. The four largest industries; the rest pooled as Other.",
            ["Industry", "Lead Volume", "MQL Rate", "SQL Rate"],
            [
                [
                    Cell(industry["industry"]),
                    _count(industry["leads"]),
                    _rate(industry["mql_rate"]),
                    _rate(industry["sql_rate"]),
                ]
                for industry in report["industries"]
            ],
        ),
        Table(
            "sources",
            "Channel Performance",
            "Referral Source Performance",
            "Cohort rates of the leads created in the quarter: MQL % = reached MQL / leads, "
            "SQL % = reached SQL / reached MQL. CAC = the source's spend in the quarter / its leads won "
            "in the quarter.",
            ["Source", "Leads", "MQL %", "SQL %", "CAC"],
            [
                [
                    Cell(source["source"]),
                    _count(source["leads"]),
                    _rate(source["mql_rate"]),
                    _rate(source["sql_rate"]),
                    _money(source["cac"], currency),
                ]
                for source in report["sources"]
            ],
        ),
        Table(
            "campaigns",
            "Channel Performance",
            "Top Performing Campaigns",
            f"The top {len(report['campaigns'])} by ROI of the {considered} campaigns that brought referral "
            "leads in the quarter (leads without a campaign are left out). Conv. Rate is cohort: won / leads "
            "created in the quarter. ROI = (Σ 12-month customer value of the leads won in the quarter - "
            "spend) / spend.",
            ["Campaign", "Leads", "Conv. Rate", "ROI"],
            [
                [
                    Cell(campaign["campaign"]),
                    _count(campaign["leads"]),
                    _rate(campaign["conversion_rate"], decimals=1),
                    Cell(
                        percent(campaign["roi"]),
                        campaign["roi"],
                        PERCENT if campaign["roi"] is not None else "",
                    ),
                ]
                for campaign in report["campaigns"]
            ],
        ),
    ]
