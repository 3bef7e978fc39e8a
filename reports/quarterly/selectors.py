"""The quarterly referral report's data: every table of the reference, from the metrics engine.

The report is about referral-generated leads: leads whose source ``is_referral``
(docs/demo-data.md: the source's flag decides, not its channel type). The engine
(reports.selectors.metric_table) offers no "referral" lead filter, so every table
asks it for the same metrics sliced by source as well and adds up the referral
sources' rows; funnel measures are counts, so the sums are the referral totals and
rates are divided afterwards (numerator and denominator kept). Campaigns are the
exception: ROI and conversion are a campaign's own (its spend does not split by
source), so the campaign table shows whole campaigns that brought referral leads.

The result is plain data (dicts, lists, numbers, ISO strings): the page, every
export and the API render it, so they cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from leads.models import Segment, Source
from leadtrack.tenancy.models import Organization
from reports.metrics import REGISTRY
from reports.quarterly.insights import executive_summary, key_insights
from reports.quarterly.models import ReportNotes
from reports.selectors import metric_table, reconciled_percentages, report_settings_cached

FUNNEL_COUNTS = ("leads", "mqls", "sqls", "opportunities", "won")
# The report's funnel rows: label, flow metric of the registry, measures it divides, benchmark setting.
FUNNEL_STAGES = (
    ("Lead to MQL", "lead_to_mql_flow", "mqls", "leads", "benchmark_lead_to_mql"),
    ("MQL to SQL", "mql_to_sql_flow", "sqls", "mqls", "benchmark_mql_to_sql"),
    (
        "SQL to Opportunity",
        "sql_to_opportunity_flow",
        "opportunities",
        "sqls",
        "benchmark_sql_to_opportunity",
    ),
    (
        "Opportunity to Close",
        "opportunity_to_close_flow",
        "won",
        "opportunities",
        "benchmark_opportunity_to_close",
    ),
)
# Named industries in the industry table; the rest are pooled as "Other" (docs/demo-data.md).
NAMED_INDUSTRIES = 4
TOP_CAMPAIGNS = 3
OTHER = "Other"
# Metrics whose definitions the methodology section prints, in the report's order.
METHODOLOGY_METRICS = (
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "lead_to_mql_flow",
    "mql_to_sql_flow",
    "sql_to_opportunity_flow",
    "opportunity_to_close_flow",
    "leads_share",
    "lead_to_mql",
    "mql_to_sql",
    "lead_to_sql",
    "lead_conversion",
    "cac",
    "roi",
    "leads_growth",
)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4 or not 1900 <= self.year <= 9998:
            raise ValueError("no such quarter")

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> date:
        """Exclusive: the first day of the next quarter."""
        return self.next().start

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    @property
    def slug(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def months(self) -> list[date]:
        return [date(self.year, self.start.month + offset, 1) for offset in range(3)]

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)


def rate(numerator: float, denominator: float, semantics: str) -> dict[str, Any]:
    """A rate with its parts; ``value`` None when the denominator is 0 (shown as "—")."""
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": numerator / denominator if denominator else None,
        "semantics": semantics,
    }


def _sum(rows: Iterable[Mapping[str, Any]], measures: Sequence[str]) -> dict[str, float]:
    total = dict.fromkeys(measures, 0)
    for row in rows:
        for measure in measures:
            total[measure] += row["measures"].get(measure) or 0
    return total


def _referral_rows(table, referral_ids: set[str]) -> list[dict[str, Any]]:
    return [row for row in table.rows if row["source"] in referral_ids]


def _table(org: Organization, quarter: Quarter, metrics: Sequence[str], group_by: Sequence[str], **kw):
    return metric_table(
        org=org,
        metrics=list(metrics),
        period=kw.pop("period", "custom"),
        group_by=list(group_by),
        date_from=quarter.start,
        date_to=quarter.last_day,
        filters={},
        as_of=kw.pop("as_of"),
    )


def _grouped(rows: Iterable[Mapping[str, Any]], dimension: str) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[dimension]].append(row)
    return groups


def _labels(rows: Iterable[Mapping[str, Any]], dimension: str) -> dict[str, str]:
    return {row[dimension]: row[f"{dimension}_label"] for row in rows}


COHORT = ("leads", "cohort_mqls", "cohort_sqls", "cohort_opportunities", "cohort_won")


def _cohort_rates(total: Mapping[str, float]) -> dict[str, Any]:
    return {
        "leads": int(total["leads"]),
        "mqls": int(total["cohort_mqls"]),
        "sqls": int(total["cohort_sqls"]),
        "mql_rate": rate(total["cohort_mqls"], total["leads"], "cohort"),
        "sql_rate": rate(total["cohort_sqls"], total["cohort_mqls"], "cohort"),
        "lead_to_sql": rate(total["cohort_sqls"], total["leads"], "cohort"),
    }


def _referral_leads(org: Organization, quarter: Quarter, referral_ids: set[str], as_of: datetime) -> int:
    table = _table(org, quarter, ["leads"], ["source"], as_of=as_of)
    return int(_sum(_referral_rows(table, referral_ids), ["leads"])["leads"])


def _monthly(org, quarter, referral_ids, as_of) -> list[dict[str, Any]]:
    table = _table(org, quarter, FUNNEL_COUNTS, ["source"], period="month", as_of=as_of)
    by_month = _grouped(_referral_rows(table, referral_ids), "period_start")
    months = []
    for month in quarter.months:
        total = _sum(by_month.get(month, []), FUNNEL_COUNTS)
        months.append(
            {"month": month.isoformat(), "label": month.strftime("%B")}
            | {measure: int(total[measure]) for measure in FUNNEL_COUNTS}
        )
    return months


def _funnel(totals: Mapping[str, int], settings) -> list[dict[str, Any]]:
    return [
        {
            "stage": label,
            "metric": metric,
            "rate": rate(totals[numerator], totals[denominator], "flow"),
            "benchmark": float(getattr(settings, benchmark)) / 100,
        }
        for label, metric, numerator, denominator, benchmark in FUNNEL_STAGES
    ]


def _regions(org, quarter, referral_ids, as_of) -> list[dict[str, Any]]:
    table = _table(org, quarter, ["leads"], ["source", "region"], as_of=as_of)
    rows = _referral_rows(table, referral_ids)
    labels = _labels(rows, "region")
    counts = {key: int(_sum(group, ["leads"])["leads"]) for key, group in _grouped(rows, "region").items()}
    ordered = sorted((key for key in counts if counts[key]), key=lambda key: (-counts[key], labels[key]))
    total = sum(counts[key] for key in ordered)
    shares = reconciled_percentages([counts[key] / total for key in ordered], decimals=0) if total else []
    return [
        {
            "region": key,
            "label": labels[key],
            "leads": counts[key],
            "share": rate(counts[key], total, "flow"),
            "share_percent": int(share),
        }
        for key, share in zip(ordered, shares, strict=True)
    ]


def _industries(org, quarter, referral_ids, as_of) -> list[dict[str, Any]]:
    table = _table(org, quarter, ["lead_to_mql"], ["source", "industry"], as_of=as_of)
    rows = _referral_rows(table, referral_ids)
    labels = _labels(rows, "industry")
    totals = {key: _sum(group, COHORT) for key, group in _grouped(rows, "industry").items()}
    named = sorted(
        (key for key in totals if key and totals[key]["leads"]),
        key=lambda key: (-totals[key]["leads"], labels[key]),
    )[:NAMED_INDUSTRIES]
    pooled = [totals[key] for key in totals if key not in named]
    result = [{"industry": labels[key], "pooled": False} | _cohort_rates(totals[key]) for key in named]
    other = {measure: sum(total[measure] for total in pooled) for measure in COHORT}
    if other["leads"]:
        result.append({"industry": OTHER, "pooled": True} | _cohort_rates(other))
    return result


def _sources(org, quarter, referral_ids, as_of, source_names) -> list[dict[str, Any]]:
    table = _table(org, quarter, ["lead_to_mql", "spend", "cac"], ["source"], as_of=as_of)
    rows = {row["source"]: row for row in _referral_rows(table, referral_ids)}
    result = []
    for source_id in referral_ids:
        row = rows.get(source_id)
        measures = row["measures"] if row else {}
        total = {measure: measures.get(measure) or 0 for measure in COHORT}
        if not total["leads"] and not measures.get("won"):
            continue
        spend = int(measures.get("spend") or 0)
        won = int(measures.get("won") or 0)
        cac = row["values"]["cac"].value if row else None
        result.append(
            {"source": source_names[source_id], "spend": spend, "won": won, "cac": cac} | _cohort_rates(total)
        )
    return sorted(result, key=lambda item: (-item["leads"], item["source"]))


def _campaigns(org, quarter, referral_ids, as_of) -> tuple[list[dict[str, Any]], int]:
    """The top campaigns by ROI among those that brought referral leads, and how many there were."""
    by_source = _table(org, quarter, ["leads"], ["source", "campaign"], as_of=as_of)
    with_referrals = {
        row["campaign"]
        for row in _referral_rows(by_source, referral_ids)
        if row["campaign"] and row["measures"].get("leads")
    }
    table = _table(org, quarter, ["lead_conversion", "roi", "spend"], ["campaign"], as_of=as_of)
    campaigns = []
    for row in table.rows:
        if row["campaign"] not in with_referrals:
            continue
        measures = row["measures"]
        campaigns.append(
            {
                "campaign": row["campaign_label"],
                "leads": int(measures.get("leads") or 0),
                "won": int(measures.get("cohort_won") or 0),
                "conversion_rate": rate(
                    measures.get("cohort_won") or 0, measures.get("leads") or 0, "cohort"
                ),
                "spend": int(measures.get("spend") or 0),
                "value_12m": int(measures.get("won_value_12m") or 0),
                "roi": row["values"]["roi"].value,
            }
        )
    campaigns.sort(
        key=lambda item: (item["roi"] is None, -(item["roi"] or 0), -item["leads"], item["campaign"])
    )
    return campaigns[:TOP_CAMPAIGNS], len(campaigns)


def _segments(org, quarter, referral_ids, as_of) -> dict[str, Any]:
    """Lead→MQL (cohort) of enterprise and SMB leads, the lift between them, and the strongest
    industry's enterprise leads' Lead→SQL."""
    table = _table(org, quarter, ["lead_to_mql"], ["source", "segment", "industry"], as_of=as_of)
    rows = _referral_rows(table, referral_ids)
    by_segment = _grouped(rows, "segment")
    enterprise = _cohort_rates(_sum(by_segment.get(Segment.ENTERPRISE, []), COHORT))
    smb = _cohort_rates(_sum(by_segment.get(Segment.SMB, []), COHORT))
    e_rate, s_rate = enterprise["mql_rate"]["value"], smb["mql_rate"]["value"]
    enterprise_by_industry = {
        label: _cohort_rates(_sum(group, COHORT))
        for label, group in _grouped(
            [row | {"industry": row["industry_label"]} for row in by_segment.get(Segment.ENTERPRISE, [])],
            "industry",
        ).items()
    }
    return {
        "rate_metric": "lead_to_mql",
        "enterprise": enterprise,
        "smb": smb,
        "lift": (e_rate / s_rate - 1) if e_rate is not None and s_rate else None,
        "enterprise_by_industry": enterprise_by_industry,
    }


def _notes(org: Organization, quarter: Quarter) -> dict[str, Any]:
    notes = ReportNotes.objects.filter(organization=org, year=quarter.year, quarter=quarter.number).first()
    if notes is None:
        return {"recommendations": "", "next_steps": "", "updated_by": None, "updated_at": None}
    return {
        "recommendations": notes.recommendations,
        "next_steps": notes.next_steps,
        "updated_by": (notes.updated_by.full_name or notes.updated_by.email) if notes.updated_by else None,
        "updated_at": notes.updated_at.isoformat(),
    }


def _methodology() -> list[dict[str, str]]:
    return [
        {
            "metric": name,
            "label": REGISTRY[name].label.removesuffix(f" ({REGISTRY[name].semantics})"),
            "semantics": REGISTRY[name].semantics,
            "definition": REGISTRY[name].definition,
        }
        for name in METHODOLOGY_METRICS
    ]


def quarterly_report(*, org: Organization, quarter: Quarter, as_of: datetime | None = None) -> dict[str, Any]:
    """The quarterly referral report of ``org`` for ``quarter``, computed live as of ``as_of`` (default now).

    Runs inside the organization's tenant context (a request, an OrgTask or ``tenant_context``).
    """
    as_of = as_of or timezone.now()
    settings = report_settings_cached(org=org)
    referral_sources = dict(
        Source.objects.filter(organization=org, is_referral=True).order_by("name").values_list("pk", "name")
    )
    source_names = {str(pk): name for pk, name in referral_sources.items()}
    referral_ids = set(source_names)

    monthly = _monthly(org, quarter, referral_ids, as_of)
    totals = {measure: sum(month[measure] for month in monthly) for measure in FUNNEL_COUNTS}
    previous_leads = _referral_leads(org, quarter.previous(), referral_ids, as_of)
    sources = _sources(org, quarter, referral_ids, as_of, source_names)
    campaigns, campaigns_considered = _campaigns(org, quarter, referral_ids, as_of)
    report: dict[str, Any] = {
        "organization": {
            "name": org.name,
            "slug": org.slug,
            "time_zone": org.time_zone,
            "currency": org.currency,
        },
        "quarter": {
            "year": quarter.year,
            "quarter": quarter.number,
            "label": quarter.label,
            "slug": quarter.slug,
            "first_day": quarter.start.isoformat(),
            "last_day": quarter.last_day.isoformat(),
        },
        "as_of": as_of.isoformat(),
        "has_data": any(totals.values()),
        "referral_sources": sorted(source_names.values()),
        "growth": {
            "metric": "leads_growth",
            "previous_quarter": quarter.previous().label,
            "previous_referral_leads": previous_leads,
            "previous_has_data": previous_leads > 0,
            "referral_leads": totals["leads"],
            "value": (totals["leads"] - previous_leads) / previous_leads if previous_leads else None,
        },
        "totals": totals,
        "monthly": monthly,
        "regions": _regions(org, quarter, referral_ids, as_of),
        "funnel": _funnel(totals, settings),
        "industries": _industries(org, quarter, referral_ids, as_of),
        "sources": sources,
        "campaigns": campaigns,
        "campaigns_considered": campaigns_considered,
        "segments": _segments(org, quarter, referral_ids, as_of),
        "notes": _notes(org, quarter),
        "methodology": _methodology(),
    }
    report["executive_summary"] = executive_summary(report)
    report["insights"] = key_insights(report)
    return report
