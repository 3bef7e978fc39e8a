"""The metric registry: every number the dashboards, exports and API show, defined once (docs/metrics.md).

A metric is computed from the measures of one row of the set-based queries in
reports/queries.py (families: funnel, speed, spend, pipeline) and the
organization's report settings. Ratios keep their numerator and denominator;
a denominator of 0 gives ``value=None`` (shown as "—", never 0 % or an error).

Virality K and viral cycle time are the referrals app's (referrals.selectors.referral_metrics,
family "referral"): the registry delegates to that one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Unit(StrEnum):
    COUNT = "count"
    RATE = "rate"
    MONEY = "money"
    DAYS = "days"
    HOURS = "hours"
    RATIO = "ratio"
    MONTHS = "months"


class Family(StrEnum):
    FUNNEL = "funnel"
    SPEED = "speed"
    SPEND = "spend"
    PIPELINE = "pipeline"
    SETTINGS = "settings"
    REFERRAL = "referral"  # a row's "referral" is referrals.selectors.ReferralMetrics, or None
    # Measures of a month's forecast snapshot (funnel.predictions.selectors.ForecastRow.as_measures);
    # dashboards and their slices do not carry them: "—" there.
    FORECAST = "forecast"
    # Computed by reports.attribution.selectors (touchpoint credit, e-mail engagement), not metric_table.
    ATTRIBUTION = "attribution"
    EMAIL = "email"
    WEB = "web"  # measures of capture.tracking.selectors.web_measures (visits, page views …), or None


@dataclass(frozen=True)
class Value:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int | None = None  # sample size of a median


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: Unit
    definition: str
    families: frozenset[Family]
    compute: Callable[[Mapping[str, Any], Any], Value]
    semantics: str = ""  # "flow", "cohort" or "" (neither applies)
    # For count and ratio metrics of the funnel family: the measures they divide,
    # so that snapshots store exactly what the live computation divides.
    numerator: str | None = None
    denominator: str | None = None


def ratio(numerator: float | None, denominator: float | None) -> Value:
    numerator = float(numerator or 0)
    denominator = float(denominator or 0)
    return Value(numerator / denominator if denominator else None, numerator, denominator)


def growth(current: float | None, previous: float | None) -> Value:
    """Period-over-period change: (value(P) - value(P-1)) / value(P-1); None when P-1 is 0 or unknown."""
    if current is None or previous is None:
        return Value(None)
    return Value((current - previous) / previous if previous else None, current - previous, previous)


REGISTRY: dict[str, Metric] = {}


def _register(metric: Metric) -> None:
    if metric.name in REGISTRY:
        raise ValueError(f"metric {metric.name} is defined twice")
    REGISTRY[metric.name] = metric


def _count(name: str, label: str, measure: str, definition: str) -> None:
    _register(
        Metric(
            name=name,
            label=label,
            unit=Unit.COUNT,
            definition=definition,
            families=frozenset({Family.FUNNEL}),
            compute=lambda row, settings: Value(float(row.get(measure) or 0), float(row.get(measure) or 0)),
            semantics="flow",
            numerator=measure,
        )
    )


def _rate(
    name: str,
    label: str,
    numerator: str,
    denominator: str,
    definition: str,
    semantics: str,
) -> None:
    _register(
        Metric(
            name=name,
            label=label,
            unit=Unit.RATE,
            definition=definition,
            families=frozenset({Family.FUNNEL}),
            compute=lambda row, settings: ratio(row.get(numerator), row.get(denominator)),
            semantics=semantics,
            numerator=numerator,
            denominator=denominator,
        )
    )


# --- Volumes (flow: what happened in the period) --------------------------------------------
_count("leads", "Leads", "leads", "Leads created in the period.")
_count("mqls", "MQLs", "mqls", "Leads that first reached MQL (or a later stage) in the period.")
_count("sqls", "SQLs", "sqls", "Leads that first reached SQL (or a later stage) in the period.")
_count(
    "opportunities",
    "Opportunities",
    "opportunities",
    "Leads that first reached Opportunity (or a later stage) in the period.",
)
_count("won", "Won", "won", "Leads closed won in the period (by close date).")
_count(
    "lost",
    "Lost",
    "lost",
    "Leads closed lost in the period (by close date); a lost lead since recycled is no longer lost.",
)
_count(
    "inbound_leads", "Inbound leads", "inbound_leads", "Leads created in the period whose source is inbound."
)

# --- Stage rates: cohort (the leads created in the period, as of now) and flow ---------------
_STAGE_RATES = (
    # name, label, cohort numerator, cohort denominator, flow numerator, flow denominator, text
    ("lead_to_mql", "Lead→MQL", "cohort_mqls", "leads", "mqls", "leads", "reached MQL / leads"),
    ("mql_to_sql", "MQL→SQL", "cohort_sqls", "cohort_mqls", "sqls", "mqls", "reached SQL / reached MQL"),
    (
        "sql_to_opportunity",
        "SQL→Opportunity",
        "cohort_opportunities",
        "cohort_sqls",
        "opportunities",
        "sqls",
        "reached Opportunity / reached SQL",
    ),
    (
        "opportunity_to_close",
        "Opportunity→Close",
        "cohort_won",
        "cohort_opportunities",
        "won",
        "opportunities",
        "won / reached Opportunity",
    ),
    ("win_rate", "Win rate", "cohort_won", "cohort_closed", "won", "closed", "won / (won + lost)"),
    ("lead_conversion", "Lead conversion", "cohort_won", "leads", "won", "leads", "won / leads"),
    ("lead_to_sql", "Lead→SQL", "cohort_sqls", "leads", "sqls", "leads", "reached SQL / leads"),
    (
        "lead_to_opportunity",
        "Lead→Opportunity",
        "cohort_opportunities",
        "leads",
        "opportunities",
        "leads",
        "reached Opportunity / leads",
    ),
)
for _name, _label, _cn, _cd, _fn, _fd, _text in _STAGE_RATES:
    _rate(
        _name,
        _label,
        _cn,
        _cd,
        f"Cohort: of the leads created in the period, {_text}, as of now. Skipped stages count as reached; "
        "a recycled lead keeps the stages it reached.",
        "cohort",
    )
    _rate(
        f"{_name}_flow",
        f"{_label} (flow)",
        _fn,
        _fd,
        f"Flow: events in the period, {_text} (each counted by the time it happened in the period).",
        "flow",
    )
_rate(
    "referral_conversion",
    "Referral conversion",
    "referral_cohort_won",
    "referral_leads",
    "Of the leads from referral sources created in the period, won / leads, as of now (cohort).",
    "cohort",
)
_rate(
    "referral_mql_rate",
    "Referral-generated MQL rate",
    "referral_cohort_mqls",
    "referral_leads",
    "Of the leads from referral sources created in the period, reached MQL / leads, as of now (cohort).",
    "cohort",
)
_rate(
    "mqls_meeting_qualification",
    "% of MQLs meeting qualification criteria",
    "mqls_bant",
    "mqls",
    "Flow: of the leads that first reached MQL in the period, the share whose BANT checklist (budget, "
    "authority, need, timeline) meets the organization's BANT rule (lead scoring settings), as ticked now.",
    "flow",
)

# --- Money --------------------------------------------------------------------------------
SPEND_DEFINITION = (
    "Campaign costs, each dated at its campaign's start date (campaigns without a start date count in no "
    "period), plus spend entries dated in the period."
)


def _spend(row: Mapping[str, Any]) -> float | None:
    """None when spend cannot be attributed to the row (a slice or filter spend does not carry)."""
    spend = row.get("spend")
    return None if spend is None else float(spend)


def _money_metric(name: str, label: str, unit: Unit, definition: str, families: set[Family], compute) -> None:
    _register(Metric(name, label, unit, definition, frozenset(families), compute))


def _cac(row: Mapping[str, Any]) -> Value:
    spend = _spend(row)
    return Value(None) if spend is None else ratio(spend, row.get("won"))


def _ltv(settings) -> float:
    return (
        settings.customer_lifetime_months
        * settings.monthly_value_per_customer
        * float(settings.gross_margin)
        / 100.0
    )


def _ltv_to_cac(row, settings) -> Value:
    cac = _cac(row).value
    ltv = _ltv(settings)
    return Value(ltv / cac if cac else None, ltv, cac)


def _payback(row, settings) -> Value:
    cac = _cac(row).value
    monthly_margin = settings.monthly_value_per_customer * float(settings.gross_margin) / 100.0
    if cac is None or not monthly_margin:
        return Value(None, cac, monthly_margin)
    return Value(cac / monthly_margin, cac, monthly_margin)


_money_metric(
    "spend",
    "Spend",
    Unit.MONEY,
    SPEND_DEFINITION,
    {Family.SPEND},
    lambda row, settings: Value(_spend(row), _spend(row)),
)
_money_metric(
    "cpl",
    "CPL",
    Unit.MONEY,
    "Cost per lead: spend / leads created in the period.",
    {Family.SPEND, Family.FUNNEL},
    lambda row, settings: Value(None) if _spend(row) is None else ratio(_spend(row), row.get("leads")),
)
_money_metric(
    "cac",
    "CAC",
    Unit.MONEY,
    "Customer acquisition cost: spend / leads won in the period.",
    {Family.SPEND, Family.FUNNEL},
    lambda row, settings: _cac(row),
)
_money_metric(
    "roi",
    "ROI",
    Unit.RATIO,
    "(Σ first-12-months value of the leads won in the period - spend) / spend.",
    {Family.SPEND, Family.FUNNEL},
    lambda row, settings: (
        Value(None)
        if _spend(row) is None
        else ratio(float(row.get("won_value_12m") or 0) - _spend(row), _spend(row))
    ),
)
_money_metric(
    "roas",
    "ROAS",
    Unit.RATIO,
    "Σ won amount of leads from paid channels won in the period / spend on paid channels.",
    {Family.SPEND, Family.FUNNEL},
    lambda row, settings: (
        Value(None)
        if row.get("paid_spend") is None
        else ratio(row.get("paid_won_amount"), row.get("paid_spend"))
    ),
)
_money_metric(
    "ltv",
    "LTV",
    Unit.MONEY,
    "Lifetime value of a customer: lifetime months x monthly value x gross margin (report settings).",
    {Family.SETTINGS},
    lambda row, settings: Value(_ltv(settings)),
)
_money_metric(
    "ltv_to_cac",
    "LTV:CAC",
    Unit.RATIO,
    "LTV / CAC over the period.",
    {Family.SPEND, Family.FUNNEL, Family.SETTINGS},
    _ltv_to_cac,
)
_money_metric(
    "payback_months",
    "Payback period",
    Unit.MONTHS,
    "CAC / (monthly value per customer x gross margin), in months.",
    {Family.SPEND, Family.FUNNEL, Family.SETTINGS},
    _payback,
)

# --- Pipeline -------------------------------------------------------------------------------
_money_metric(
    "pipeline_value",
    "Pipeline value",
    Unit.MONEY,
    "Σ expected amount of the leads that were open opportunities at the end of the period "
    "(stage from the transition log; today's expected amounts).",
    {Family.PIPELINE},
    lambda row, settings: Value(float(row.get("pipeline_value") or 0), n=row.get("open_opportunities")),
)
_money_metric(
    "weighted_pipeline",
    "Weighted pipeline",
    Unit.MONEY,
    "Σ expected amount x stage probability (report settings) of the leads open (lead, MQL, SQL, "
    "opportunity) at the end of the period.",
    {Family.PIPELINE},
    lambda row, settings: Value(float(row.get("weighted_pipeline") or 0)),
)
_money_metric(
    "pipeline_growth",
    "Pipeline growth",
    Unit.RATE,
    "(pipeline value at the end of the period - at its start) / pipeline value at its start.",
    {Family.PIPELINE},
    lambda row, settings: ratio(
        float(row.get("pipeline_value") or 0) - float(row.get("pipeline_value_at_start") or 0),
        row.get("pipeline_value_at_start"),
    ),
)


def _velocity(row, settings) -> Value:
    won = float(row.get("won") or 0)
    closed = float(row.get("closed") or 0)
    cycle_sum = float(row.get("won_cycle_days_sum") or 0)
    if not won or not closed or not cycle_sum:
        return Value(None)
    average_deal = float(row.get("won_amount") or 0) / won
    win_rate = won / closed
    average_cycle_days = cycle_sum / won
    return Value(float(row.get("open_opportunities") or 0) * average_deal * win_rate / average_cycle_days)


_money_metric(
    "pipeline_velocity",
    "Pipeline velocity (per day)",
    Unit.MONEY,
    "Open opportunities at the end of the period x average won deal size x win rate / average sales cycle "
    "(days), the last three over the deals closed in the period.",
    {Family.PIPELINE, Family.FUNNEL},
    _velocity,
)


# --- Speed ------------------------------------------------------------------------------------
def _median(measure: str, count: str):
    def compute(row, settings) -> Value:
        median = row.get(measure)
        return Value(None if median is None else float(median), n=int(row.get(count) or 0))

    return compute


_money_metric(
    "time_to_first_contact",
    "Time to first contact",
    Unit.HOURS,
    "Median hours from creation to the first outbound activity, over the leads created in the period that "
    "were contacted.",
    {Family.SPEED},
    _median("first_contact_hours", "first_contact_n"),
)
_money_metric(
    "first_contact_within_sla",
    "First contact within SLA",
    Unit.RATE,
    "Of the leads created in the period that were contacted or whose SLA (report settings) has run out, the "
    "share contacted within the SLA.",
    {Family.SPEED},
    lambda row, settings: ratio(row.get("first_contact_within_sla"), row.get("first_contact_due")),
)
_money_metric(
    "time_to_first_meeting",
    "Time to first meeting",
    Unit.HOURS,
    "Median hours from creation to the first meeting or demo, over the leads created in the period that met.",
    {Family.SPEED},
    _median("first_meeting_hours", "first_meeting_n"),
)
_money_metric(
    "opportunity_creation_velocity",
    "Opportunity creation velocity",
    Unit.DAYS,
    "Median days from reaching MQL to reaching Opportunity, over the leads that reached Opportunity in the "
    "period (a lead that skipped MQL reached both at once: 0 days).",
    {Family.SPEED},
    _median("mql_to_opportunity_days", "mql_to_opportunity_n"),
)
_money_metric(
    "sales_cycle",
    "Sales cycle",
    Unit.DAYS,
    "Median days from creation to closed won, over the leads won in the period.",
    {Family.SPEED},
    _median("sales_cycle_days", "sales_cycle_n"),
)


# --- Referral program (computed by the referrals app) ------------------------------------------
def _referral(compute: Callable[[Any], Value]) -> Callable[[Mapping[str, Any], Any], Value]:
    """``compute`` applied to the row's ReferralMetrics; "—" where they do not apply (a slice, a filter)."""

    def value(row: Mapping[str, Any], settings: Any) -> Value:
        metrics = row.get("referral")
        return Value(None) if metrics is None else compute(metrics)

    return value


_register(
    Metric(
        "virality",
        "Virality coefficient K",
        Unit.RATIO,
        "Leads created in the period from customer referrals / customers won before the period starts, "
        "times those leads' conversion (won / leads, as of now); for the whole organization only.",
        frozenset({Family.REFERRAL}),
        _referral(lambda metrics: Value(metrics.virality)),
        semantics="cohort",
    )
)
_register(
    Metric(
        "viral_cycle_time",
        "Viral cycle time",
        Unit.DAYS,
        "Median days from a referring customer's own win to the first lead they refer, over the first "
        "referrals submitted in the period; for the whole organization only.",
        frozenset({Family.REFERRAL}),
        _referral(lambda metrics: Value(metrics.viral_cycle_days, n=metrics.viral_cycle_n)),
    )
)

# --- Win forecast (the predictive score's monthly snapshot, funnel.predictions) -------------------
_register(
    Metric(
        "forecasted_win_rate",
        "Forecasted win rate",
        Unit.RATE,
        "Expected wins / open leads, at the forecast taken at the start of the month: expected wins are "
        "the Σ of the active model's win probabilities of the leads open then. Compare it with the actual "
        "win rate of the same leads.",
        frozenset({Family.FORECAST}),
        lambda row, settings: (
            ratio(row.get("forecast_expected_wins"), row.get("forecast_open_leads"))
            if row.get("forecast_open_leads") is not None
            else Value(None)
        ),
    )
)
_register(
    Metric(
        "forecast_actual_win_rate",
        "Actual win rate (forecast leads)",
        Unit.RATE,
        "Of the leads open when the month's forecast was taken, those closed won within that month (local "
        "calendar) / those leads; known once the month is over.",
        frozenset({Family.FORECAST}),
        lambda row, settings: (
            ratio(row.get("forecast_actual_wins"), row.get("forecast_open_leads"))
            if row.get("forecast_actual_wins") is not None
            else Value(None)
        ),
    )
)


# --- Web traffic (first-party tracking; computed by capture.tracking.selectors) -----------------
# A visit is a visitor's run of page views with no gap over 30 minutes (a new campaign in the URL
# also starts one); it counts in the period of its first (landing) page view. Whole organization
# only: visits carry no lead dimensions, so a slice or a lead filter gets "—".
def _web_count(measure: str) -> Callable[[Mapping[str, Any], Any], Value]:
    def compute(row: Mapping[str, Any], settings: Any) -> Value:
        value = row.get(measure)
        return Value(None) if value is None else Value(float(value), float(value))

    return compute


for _name, _label, _measure, _definition in (
    ("website_traffic", "Website traffic (visits)", "visits", "Visits that started (landed) in the period."),
    ("page_views", "Page views", "page_views", "Page views recorded in the period, every reload counted."),
    (
        "unique_page_views",
        "Unique page views",
        "unique_page_views",
        "Distinct (visit, page path) pairs among the page views in the period: a page seen several "
        "times in one visit counts once.",
    ),
    (
        "unique_visitors",
        "Unique visitors",
        "unique_visitors",
        "Distinct visitor ids (the first-party lt_vid cookie) with a page view in the period.",
    ),
    (
        "new_visitors",
        "New visitors",
        "new_visitors",
        "Visitors whose first recorded visit started in the period.",
    ),
):
    _register(Metric(_name, _label, Unit.COUNT, _definition, frozenset({Family.WEB}), _web_count(_measure)))
_register(
    Metric(
        "traffic_source_share",
        "Traffic source distribution",
        Unit.RATE,
        "Visits of a traffic source / all visits of the period. A visit's source comes from its landing "
        "page view: its utm_source when tagged, else the referrer's domain when it is another site, "
        "else direct. Shown per source on the Web traffic dashboard (100 % for the whole organization).",
        frozenset({Family.WEB}),
        lambda row, settings: (
            Value(None) if row.get("visits") is None else ratio(row["visits"], row["all_visits"])
        ),
    )
)
_register(
    Metric(
        "landing_page_conversion",
        "Landing page conversion rate",
        Unit.RATE,
        "Visits landing in the period that converted / visits landing in the period, per landing page "
        "(the path of the visit's first page view) or overall. A visit converts when a web-form submission "
        "of the lead its visitor was identified as happened between its first page view and 30 minutes "
        "after its last.",
        frozenset({Family.WEB}),
        lambda row, settings: (
            Value(None) if row.get("visits") is None else ratio(row.get("converted_visits"), row["visits"])
        ),
    )
)


# --- Web capture: lead-side KPIs (go-to-market KPI catalogue) ---------------------------------
_rate(
    "signup_source_quality",
    "Signup source quality",
    "cohort_mqls",
    "leads",
    "Of the leads created in the period (per source when sliced by source), the share that reached MQL "
    "or a later stage, as of now (cohort). Reaching MQL is the quality criterion: the scoring threshold "
    "that encodes fit moves a lead to MQL through the same stage service.",
    "cohort",
)
_money_metric(
    "first_contact_engagement",
    "First-contact engagement rate",
    Unit.RATE,
    "Of the leads created in the period that were contacted (first outbound activity), the share whose "
    "first contact got an answer within 14 days of it: an e-mail reply, or a meeting or demo.",
    {Family.SPEED},
    lambda row, settings: ratio(row.get("first_contact_engaged"), row.get("first_contact_n")),
)

# --- Multi-touch attribution (reports.attribution) ---------------------------------------------
# A row holds the credit of one slice (source, campaign, channel or landing page) for the leads
# that converted in the period; touchpoints are page visits and web-form submissions at or
# before the conversion. Leads without one are credited to "(no touchpoint)", so the credits of a
# table add up to the conversion count.
ATTRIBUTION_MODELS = {
    "first_touch": (
        "First touch",
        "All the credit of a conversion goes to the lead's earliest touchpoint at or before it.",
    ),
    "last_touch": (
        "Last touch",
        "All the credit of a conversion goes to the lead's latest touchpoint at or before it.",
    ),
    "linear": (
        "Linear",
        "The credit of a conversion is split equally over the lead's n touchpoints at or before it "
        "(1/n each).",
    ),
    "position_based": (
        "Position-based (40/20/40)",
        "40 % of a conversion to the first touchpoint, 40 % to the last, the other 20 % split equally over "
        "the ones between; with one touchpoint it gets 100 %, with two 50 % each.",
    ),
}
for _model, (_label, _text) in ATTRIBUTION_MODELS.items():
    _register(
        Metric(
            f"attribution_{_model}",
            f"Attributed conversions ({_label.lower()})",
            Unit.COUNT,
            f"{_label}: {_text} Touchpoints are page visits and form submissions (ties by time broken "
            "by their order of arrival); credit is summed per source, campaign, channel or landing page.",
            frozenset({Family.ATTRIBUTION}),
            lambda row, settings: Value(float(row.get("credit") or 0), float(row.get("credit") or 0)),
        )
    )


def _attributed_spend(row: Mapping[str, Any]) -> float | None:
    spend = row.get("spend")
    return None if spend is None else float(spend)


_money_metric(
    "attributed_won_revenue",
    "Attributed won revenue",
    Unit.MONEY,
    "Σ over the leads won in the period of won amount x the credit the chosen model gives the slice.",
    {Family.ATTRIBUTION},
    lambda row, settings: Value(float(row.get("won_amount") or 0)),
)
_money_metric(
    "attributed_cac",
    "Attributed CAC",
    Unit.MONEY,
    "Spend of the campaign (as for CAC: its cost dated at its start date, plus its spend entries in the "
    "period) / the wins the chosen model credits to it in the period.",
    {Family.ATTRIBUTION, Family.SPEND},
    lambda row, settings: (
        Value(None) if _attributed_spend(row) is None else ratio(_attributed_spend(row), row.get("credit"))
    ),
)
_money_metric(
    "attributed_roi",
    "Attributed ROI",
    Unit.RATIO,
    "As ROI, with the chosen model's credit: (Σ first-12-months value of the leads won in the period x "
    "the credit given to the campaign - its spend) / its spend.",
    {Family.ATTRIBUTION, Family.SPEND},
    lambda row, settings: (
        Value(None)
        if _attributed_spend(row) is None
        else ratio(float(row.get("value_12m") or 0) - _attributed_spend(row), _attributed_spend(row))
    ),
)

# --- E-mail engagement (events posted by the e-mail service; reports.attribution) -------------
_EMAIL_RATES = (
    (
        "email_open_rate",
        "Open rate",
        "opened",
        "Of the messages delivered in the period, the share opened at least once (unique opens per "
        "message / delivered), as of now. Catalogue: recipients who open / e-mails delivered.",
    ),
    (
        "email_click_rate",
        "Click rate",
        "clicked",
        "Of the messages delivered in the period, the share with at least one click (unique clicks per "
        "message / delivered), as of now: click-through, not click-to-open.",
    ),
    (
        "email_unsubscribe_rate",
        "Unsubscribe rate",
        "unsubscribed",
        "Of the messages delivered in the period, the share whose recipient unsubscribed from it "
        "(unique per message / delivered), as of now. Catalogue: recipients who opt out after a campaign.",
    ),
)
for _name, _label, _measure, _text in _EMAIL_RATES:
    _register(
        Metric(
            _name,
            _label,
            Unit.RATE,
            _text,
            frozenset({Family.EMAIL}),
            lambda row, settings, measure=_measure: ratio(row.get(measure), row.get("delivered")),
            semantics="cohort",
        )
    )

# --- Growth and shares (computed from other metrics over neighbouring periods / slices) -------
GROWTH_OF = {f"{name}_growth": name for name in ("leads", "mqls", "sqls", "opportunities", "won", "lost")}
SHARE_OF = {"leads_share": "leads", "won_share": "won"}

for _growth, _base in GROWTH_OF.items():
    _register(
        Metric(
            _growth,
            f"{REGISTRY[_base].label} growth",
            Unit.RATE,
            f"Period-over-period growth of {REGISTRY[_base].label}: (value(P) - value(P-1)) / value(P-1), "
            "P-1 the period of the same length just before.",
            REGISTRY[_base].families,
            REGISTRY[_base].compute,
            semantics="flow",
        )
    )
for _share, _base in SHARE_OF.items():
    _register(
        Metric(
            _share,
            f"Share of {REGISTRY[_base].label}",
            Unit.RATE,
            f"{REGISTRY[_base].label} of the slice / {REGISTRY[_base].label} of all slices, "
            "over the same period; "
            "displayed shares are reconciled to add up to 100 % (largest remainder).",
            REGISTRY[_base].families,
            REGISTRY[_base].compute,
            semantics="flow",
        )
    )

# Metrics stored by the nightly snapshot: the funnel family's counts and ratios,
# whose numerator and denominator are additive over periods and slices.
SNAPSHOT_METRICS: tuple[Metric, ...] = tuple(
    metric for metric in REGISTRY.values() if metric.numerator is not None
)


def metric_get(name: str) -> Metric:
    """The registered metric; KeyError for an unknown name."""
    return REGISTRY[name]
