"""Reads of metrics: the registry applied to set-based SQL, live or from the nightly snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, Model
from django.urls import reverse
from django.utils import timezone

from capture.tracking.selectors import WEB_MEASURES, web_measures
from funnel.models import StageTransition
from leads.filters import LeadFilter
from leads.models import Lead
from leadtrack import caching
from leadtrack.tenancy.models import Organization
from referrals.selectors import Period as ReferralPeriod
from referrals.selectors import referral_metrics
from reports import queries
from reports.metrics import GROWTH_OF, REGISTRY, SHARE_OF, Family, Metric, Value, growth
from reports.models import Grain, MetricSnapshot, ReportSettings, SnapshotRun
from reports.periods import (
    CUSTOM,
    PERIODS,
    local_midnight,
    period_floor,
    period_next,
    period_previous,
    period_starts,
)

# Lead filters the dashboards offer (the lead list's, minus those that make no sense for a metric).
DASHBOARD_FILTERS = (
    "source",
    "channel_type",
    "campaign",
    "region",
    "country",
    "industry",
    "segment",
    "owner",
)
# Lead-list filters that are not about the population of leads: never passed to the engine.
NON_POPULATION_FILTERS = ("created_from", "created_to", "reached", "reached_from", "reached_to")


def report_settings_get(*, org: Organization) -> ReportSettings:
    """The organization's report settings (created with the defaults on first use)."""
    settings_row, _ = ReportSettings.objects.get_or_create(organization=org)
    return settings_row


REPORT_SETTINGS_TTL_SECONDS = 300


def _report_settings_key(organization_id: int) -> str:
    return f"reports:settings:{organization_id}"


def report_settings_cached(*, org: Organization) -> ReportSettings:
    """``report_settings_get`` for computing metrics: every dashboard reads the row, and it
    changes only on the settings page (receivers.py forgets it then). Edits read the row itself."""
    return caching.read_through(
        _report_settings_key(org.pk), REPORT_SETTINGS_TTL_SECONDS, lambda: report_settings_get(org=org)
    )


def report_settings_forget(*, organization_id: int) -> None:
    caching.forget(_report_settings_key(organization_id))


def _scope(
    *, org: Organization, date_from: date, date_to: date, filters: Mapping[str, str], as_of: datetime | None
) -> queries.Scope:
    if date_to < date_from:
        raise ValidationError({"date_to": "Must be on or after the start date."})
    data = {key: value for key, value in filters.items() if key not in NON_POPULATION_FILTERS and value != ""}
    active: dict[str, Any] = {}
    if data:  # no filter at all (every dashboard's default) needs no filter set
        base = Lead.objects.filter(organization=org, deleted_at__isnull=True)
        filterset = LeadFilter(data, queryset=base, organization=org, given_only=True)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors.get_json_data(), code="invalid")
        cleaned = filterset.form.cleaned_data
        active = {key: value for key, value in cleaned.items() if value not in (None, "", [], ())}
    spend_filters = {
        key: value.pk if isinstance(value, Model) else value
        for key, value in active.items()
        if key in queries.SPEND_FILTERS
    }
    tz = org.tzinfo
    end_date = date_to + timedelta(days=1)
    return queries.Scope(
        org_id=org.pk,
        time_zone=org.time_zone,
        start=local_midnight(date_from, tz),
        end=local_midnight(end_date, tz),
        start_date=date_from,
        end_date=end_date,
        as_of=as_of or timezone.now(),
        filtered_leads=filterset.qs if active else None,
        spend_filters=spend_filters,
        spend_attributable=set(active) <= set(queries.SPEND_FILTERS),
    )


def _dimensions(group_by: Sequence[str]) -> list[queries.Dimension]:
    unknown = [name for name in group_by if name not in queries.DIMENSIONS]
    if unknown:
        raise ValidationError({"group_by": f"Unknown dimension: {', '.join(unknown)}."})
    if len(set(group_by)) != len(group_by):
        raise ValidationError({"group_by": "A dimension is repeated."})
    return [queries.DIMENSIONS[name] for name in group_by]


def _families(metrics: Sequence[Metric]) -> set[Family]:
    return set().union(*(metric.families for metric in metrics)) if metrics else set()


def _key(row: Mapping[str, Any], dimensions: Sequence[queries.Dimension]) -> tuple:
    return (row["period_start"], *(row[f"dim_{dimension.name}"] for dimension in dimensions))


def snapshot_measures_read(metrics: Sequence[Metric]) -> set[str] | None:
    """The funnel measures ``metrics`` read, when all of them are snapshot measures; else None.

    Growth and share metrics read their base metric's measures; metrics outside the funnel
    family (speed, pipeline, spend, referral) have queries of their own and read none.
    """
    from reports.services import SNAPSHOT_MEASURES

    read: set[str] = set()
    for metric in metrics:
        base = REGISTRY[GROWTH_OF.get(metric.name) or SHARE_OF.get(metric.name) or metric.name]
        if Family.FUNNEL not in base.families:
            continue
        if base.numerator is None:
            return None  # reads funnel measures it does not declare (CAC, ROI …)
        read |= {base.numerator, base.denominator} - {None}
    answerable = {name for name in SNAPSHOT_MEASURES if name in queries.COUNTED_AT}
    return read if read <= answerable else None


# The snapshot grain whose whole periods make up each period the engine is asked for.
SNAPSHOT_GRAIN_FOR = {None: Grain.MONTH.value, Grain.MONTH.value: Grain.MONTH.value}
SNAPSHOT_GRAIN_FOR[Grain.QUARTER.value] = Grain.MONTH.value
SNAPSHOT_GRAIN_FOR[Grain.WEEK.value] = Grain.WEEK.value


class _Unset:
    """No snapshot run given: the selector looks the latest one up itself."""


UNSET = _Unset()


def _funnel_from_snapshot(
    *,
    org: Organization,
    scope: queries.Scope,
    grain: str | None,
    measures: Sequence[str],
    run: SnapshotRun | _Unset | None = UNSET,
) -> dict[tuple, dict[str, Any]] | None:
    """The funnel measures of the organization's totals: history from the latest snapshot, the rest live.

    The range's whole snapshot periods are read from the snapshot rows and completed with
    what counted since the snapshot was taken (queries.measures_since: new events, and
    stages reached since by the cohorts); the days before the first / after the last whole
    period are computed live. Equal to the live computation as long as nothing that
    counted before the snapshot changed since (a deleted or edited lead, a recycled lost
    lead): those show at the next recompute, as the page's "as of" says.
    None when the snapshot cannot answer (none yet, another time zone, no whole period,
    a measure it does not store); the caller then computes everything live.
    """
    stored_grain = SNAPSHOT_GRAIN_FOR.get(grain)
    if stored_grain is None:
        return None
    whole = [
        start
        for start in period_starts(scope.start_date, scope.end_date, stored_grain)
        if start >= scope.start_date and period_next(start, stored_grain) <= scope.end_date
    ]
    if run is UNSET:
        run = snapshot_run_latest(org=org)
    if not whole or run is None or run.time_zone != org.time_zone:
        return None
    snapshots = queries.snapshot_totals(org_id=org.pk, grain=stored_grain, first=whole[0], last=whole[-1])
    # Rows of another run (one committed after ``run`` was read), or rows written before a
    # measure existed, cannot be completed exactly: compute live instead.
    stale = [row for row in snapshots if row[2] != run.started_at or not set(measures) <= set(row[1])]
    if stale:
        return None

    def key(period_start: date) -> tuple:
        if grain is None:
            return (scope.start_date,)
        return (period_floor(period_start, grain),)

    rows: dict[tuple, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(measures, 0))

    def add(found: list[dict[str, Any]]) -> None:
        for row in found:
            total = rows[key(row["period_start"])]
            for name in measures:
                total[name] += row[name] or 0

    add([{"period_start": start, **stored} for start, stored, _ in snapshots])
    tz = ZoneInfo(scope.time_zone)

    def part(first: date, end: date) -> queries.Scope:
        start, stop = local_midnight(first, tz), local_midnight(end, tz)
        return replace(scope, start=start, end=stop, start_date=first, end_date=end)

    whole_end = period_next(whole[-1], stored_grain)
    add(
        queries.event_measures(
            scope=part(whole[0], whole_end),
            grain=grain,
            dimensions=[],
            measures=queries.measures_since(measures),
            since=run.started_at,
        )
    )
    live = {name: queries.FUNNEL_MEASURES[name] for name in measures}
    for first, end in ((scope.start_date, whole[0]), (whole_end, scope.end_date)):
        if first < end:
            add(queries.event_measures(scope=part(first, end), grain=grain, dimensions=[], measures=live))
    return rows


def _measure_rows(
    *,
    org: Organization,
    scope: queries.Scope,
    grain: str | None,
    dimensions: Sequence[queries.Dimension],
    families: set[Family],
    settings: ReportSettings,
    snapshot_measures: set[str] | None = None,
    snapshot_run: SnapshotRun | _Unset | None = UNSET,
) -> dict[tuple, dict[str, Any]]:
    """All measures the families need, one dict per (period, dimension values); one statement per family.

    ``snapshot_measures``: the funnel measures to read from the snapshot when it can answer.
    """
    rows: dict[tuple, dict[str, Any]] = defaultdict(dict)

    if grain is None and not dimensions:
        rows[(scope.start_date,)] = {}  # the range's one row exists even when nothing happened in it

    def merge(found: list[dict[str, Any]]) -> None:
        for row in found:
            rows[_key(row, dimensions)].update(row)

    if Family.FUNNEL in families:
        stored = None
        if snapshot_measures and not dimensions and scope.filtered_leads is None:
            stored = _funnel_from_snapshot(
                org=org, scope=scope, grain=grain, measures=sorted(snapshot_measures), run=snapshot_run
            )
        if stored is not None:
            for key, measures in stored.items():
                rows[key].update(measures)
        else:
            merge(
                queries.event_measures(
                    scope=scope, grain=grain, dimensions=dimensions, measures=queries.FUNNEL_MEASURES
                )
            )
    if Family.SPEED in families:
        sla = timedelta(hours=settings.first_contact_sla_hours)
        merge(
            queries.event_measures(
                scope=scope,
                grain=grain,
                dimensions=dimensions,
                measures=queries.SPEED_MEASURES,
                extra_params={"sla": sla},
            )
        )
    if Family.PIPELINE in families:
        starts = period_starts(scope.start_date, scope.end_date, grain) if grain else [scope.start_date]
        tz = ZoneInfo(scope.time_zone)
        ends = [
            (start, min(local_midnight(period_next(start, grain), tz), scope.end) if grain else scope.end)
            for start in starts
        ]
        opening = [(start, max(local_midnight(start, tz), scope.start)) for start in starts]
        probabilities = {
            "lead": float(settings.probability_lead) / 100,
            "mql": float(settings.probability_mql) / 100,
            "sql": float(settings.probability_sql) / 100,
            "opportunity": float(settings.probability_opportunity) / 100,
        }
        merge(
            queries.pipeline_measures(
                scope=scope, points=ends, dimensions=dimensions, probabilities=probabilities
            )
        )
        for row in queries.pipeline_measures(
            scope=scope, points=opening, dimensions=dimensions, probabilities=probabilities
        ):
            rows[_key(row, dimensions)]["pipeline_value_at_start"] = row["pipeline_value"]
    if Family.SPEND in families:
        attributable = scope.spend_attributable and all(d.spend_key for d in dimensions)
        if attributable:
            for row in queries.spend_measures(scope=scope, grain=grain, dimensions=dimensions):
                rows[_key(row, dimensions)].update(spend=row["spend"], paid_spend=row["paid_spend"])
        for row in rows.values():
            if attributable:
                row.setdefault("spend", 0)
                row.setdefault("paid_spend", 0)
            else:
                row["spend"] = row["paid_spend"] = None
    if Family.REFERRAL in families:
        # The referrals app's one implementation, one statement per period; it has no slices
        # and no lead filters, so a slice or a filtered population gets "—".
        if dimensions or scope.filtered_leads is not None:
            for row in rows.values():
                row["referral"] = None
        else:
            starts = period_starts(scope.start_date, scope.end_date, grain) if grain else [scope.start_date]
            for start in starts:
                end = min(period_next(start, grain), scope.end_date) if grain else scope.end_date
                period = ReferralPeriod(start=max(start, scope.start_date), end=end)
                rows[(start,)]["referral"] = referral_metrics(org=org, period=period)
    if Family.WEB in families:
        # The tracking app's one implementation; visits have no lead dimensions or filters.
        if dimensions or scope.filtered_leads is not None:
            for row in rows.values():
                row["visits"] = None
        else:
            merge(
                web_measures(
                    org=org, start=scope.start, end=scope.end, start_date=scope.start_date, grain=grain
                )
            )
            for row in rows.values():
                for measure in WEB_MEASURES:
                    row.setdefault(measure, 0)
    for key, row in rows.items():
        row["period_start"] = key[0]
        for dimension, value in zip(dimensions, key[1:], strict=True):
            row[f"dim_{dimension.name}"] = value
    return rows


def _label(dimension: queries.Dimension, row: Mapping[str, Any]) -> str:
    value = row.get(f"dim_{dimension.name}")
    if value in (None, ""):
        return "Unassigned" if dimension.name == "owner" else queries.NO_VALUE_LABEL
    if dimension.lead_label:
        return row.get(f"label_{dimension.name}") or str(value)
    return str(dimension.choices.get(value, value))


@dataclass(frozen=True)
class MetricTable:
    """Rows of one question: each has the period, the slice and one Value per metric asked."""

    rows: list[dict[str, Any]]
    metrics: list[Metric]
    group_by: list[str]
    period: str
    date_from: date
    date_to: date
    as_of: datetime
    settings: ReportSettings | None = None  # the report settings the values were computed with


def metric_table(
    *,
    org: Organization,
    metrics: Sequence[str],
    period: str,
    group_by: Sequence[str],
    date_from: date,
    date_to: date,
    filters: Mapping[str, str],
    as_of: datetime | None = None,
    from_snapshots: bool = True,
    snapshot_run: SnapshotRun | _Unset | None = UNSET,
) -> MetricTable:
    """Several metrics over the same periods and slices, from one statement per query family.

    As of now (``as_of`` None), the organization's funnel totals come from the latest
    snapshot plus what counted since (``_funnel_from_snapshot``) when it can answer;
    ``from_snapshots=False`` computes everything live. An explicit ``as_of`` is always live.
    ``snapshot_run``: the latest finished run when the caller has it already (a page shows it too).
    Raises ValidationError (field errors) for an unknown metric, period or dimension,
    a reversed range, or an invalid lead filter.
    """
    unknown = [name for name in metrics if name not in REGISTRY]
    if unknown:
        raise ValidationError({"metric": f"Unknown metric: {', '.join(unknown)}."})
    if period not in PERIODS:
        raise ValidationError({"period": f"Choose one of {', '.join(PERIODS)}."})
    chosen = [REGISTRY[name] for name in metrics]
    dimensions = _dimensions(group_by)
    grain = None if period == CUSTOM else period
    scope = _scope(org=org, date_from=date_from, date_to=date_to, filters=filters, as_of=as_of)
    settings = report_settings_cached(org=org)
    families = _families(chosen)
    snapshot_measures = snapshot_measures_read(chosen) if from_snapshots and as_of is None else None
    measured = _measure_rows(
        org=org,
        scope=scope,
        grain=grain,
        dimensions=dimensions,
        families=families,
        settings=settings,
        snapshot_measures=snapshot_measures,
        snapshot_run=snapshot_run,
    )
    previous: dict[tuple, dict[str, Any]] = {}
    if any(metric.name in GROWTH_OF for metric in chosen):
        # P-1 of the first period is the whole period before it (custom: the range of the same length before).
        first = period_starts(date_from, date_from + timedelta(days=1), grain)[0] if grain else date_from
        previous_from = (
            period_previous(first, grain) if grain else date_from - (date_to - date_from) - timedelta(days=1)
        )
        previous_scope = _scope(
            org=org,
            date_from=previous_from,
            date_to=first - timedelta(days=1),
            filters=filters,
            as_of=scope.as_of,
        )
        previous = _measure_rows(
            org=org,
            scope=previous_scope,
            grain=grain,
            dimensions=dimensions,
            families=families,
            settings=settings,
            snapshot_measures=snapshot_measures,
            snapshot_run=snapshot_run,
        )

    end_date = date_to + timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for key in sorted(measured, key=_sort_key):
        measures = measured[key]
        start = key[0]
        row: dict[str, Any] = {
            "period_start": max(start, date_from),
            "period_end": min(period_next(start, grain), end_date) if grain else end_date,
            "measures": measures,
        }
        for dimension in dimensions:
            value = measures.get(f"dim_{dimension.name}")
            row[dimension.name] = "" if value is None else str(value)
            row[f"{dimension.name}_label"] = _label(dimension, measures)
        values: dict[str, Value] = {}
        for metric in chosen:
            if metric.name in GROWTH_OF:
                if grain:
                    before_key = (period_previous(start, grain), *key[1:])
                    before = measured.get(before_key) or previous.get(before_key) or {}
                else:
                    before = next((row for k, row in previous.items() if k[1:] == key[1:]), {})
                base = REGISTRY[GROWTH_OF[metric.name]]
                values[metric.name] = growth(
                    base.compute(measures, settings).value, base.compute(before, settings).value
                )
            else:
                values[metric.name] = metric.compute(measures, settings)
        row["values"] = values
        rows.append(row)
    _apply_shares(rows, chosen, settings)
    return MetricTable(rows, chosen, list(group_by), period, date_from, date_to, scope.as_of, settings)


def _sort_key(key: tuple) -> tuple:
    return tuple((value is None, str(value) if value is not None else "") for value in key)


def _apply_shares(rows: list[dict[str, Any]], metrics: Sequence[Metric], settings: ReportSettings) -> None:
    for metric in metrics:
        if metric.name not in SHARE_OF:
            continue
        base = REGISTRY[SHARE_OF[metric.name]]
        totals: dict[date, float] = defaultdict(float)
        for row in rows:
            totals[row["period_start"]] += base.compute(row["measures"], settings).value or 0
        for row in rows:
            part = base.compute(row["measures"], settings).value or 0
            total = totals[row["period_start"]]
            row["values"][metric.name] = Value(part / total if total else None, part, total)


def metric_values(
    *,
    org: Organization,
    metric: str,
    period: str,
    group_by: Sequence[str],
    date_from: date,
    date_to: date,
    filters: Mapping[str, str],
    from_snapshots: bool = True,
) -> list[dict]:
    """One metric of the registry (reports/metrics.py), computed in PostgreSQL (metric_table).

    - ``period``: "day", "week" (ISO), "month", "quarter" — buckets of the organization's
      calendar — or "custom" (the whole range as one period).
    - ``group_by``: dimensions among source, channel_type, campaign, region, country,
      industry, segment, owner, partner (may be empty).
    - ``date_from`` / ``date_to``: local calendar days, both included; periods are half-open
      ``[start, end)`` and clipped to the range.
    - ``filters``: lead-list filters (leads.filters.LeadFilter parameters, e.g. ``source=<id>``,
      ``channel_type=paid``, ``region=europe``); created_*/reached_* are ignored (the range decides).

    Returns, ordered by period then dimension values, one dict per period x slice::

        {"period_start": date, "period_end": date (exclusive),
         "<dimension>": "<key as text>" ("" = none), "<dimension>_label": "<display name>",
         "value": float | None,        # None when the denominator is 0 (shown as "—")
         "numerator": float | None, "denominator": float | None,  # ratios and rates
         "n": int | None}              # sample size of a median

    Rates are fractions (0.25 = 25 %); money is in minor units of the organization's currency.
    Raises ValidationError with field errors for bad input.
    """
    table = metric_table(
        org=org,
        metrics=[metric],
        period=period,
        group_by=group_by,
        date_from=date_from,
        date_to=date_to,
        filters=filters,
        from_snapshots=from_snapshots,
    )
    out = []
    for row in table.rows:
        value = row["values"][metric]
        item = {key: row[key] for key in row if key not in ("measures", "values")}
        item.update(value=value.value, numerator=value.numerator, denominator=value.denominator, n=value.n)
        out.append(item)
    return out


def reconciled_percentages(values: Sequence[float | None], *, decimals: int = 1) -> list[Decimal | None]:
    """Shares (fractions) as percentages rounded to ``decimals`` that add up to exactly 100.

    Largest remainder: floor every share, then give the missing units to the largest remainders.
    """
    present = [(index, value) for index, value in enumerate(values) if value is not None]
    result: list[Decimal | None] = [None] * len(values)
    if not present:
        return result
    unit = Decimal(1).scaleb(-decimals)
    scaled = [(index, Decimal(str(value)) * 100 / unit) for index, value in present]
    floors = {index: amount.to_integral_value(rounding=ROUND_FLOOR) for index, amount in scaled}
    total_units = int((Decimal(100) / unit).to_integral_value())
    missing = total_units - int(sum(floors.values()))
    by_remainder = sorted(scaled, key=lambda item: (-(item[1] - floors[item[0]]), item[0]))
    for index, _ in by_remainder[: max(missing, 0)]:
        floors[index] += 1
    for index, units in floors.items():
        result[index] = units * unit
    return result


def lead_list_url(*, org: Organization, params: Mapping[str, Any]) -> str:
    """The lead list showing exactly the leads given by ``params`` (LeadFilter parameters)."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"{reverse('lead_list', kwargs={'org_slug': org.slug})}?{query}"


# The stage a count metric is about: its leads are those that reached it (flow: in the period).
REACHED_BY_MEASURE = {
    "mqls": "mql",
    "sqls": "sql",
    "opportunities": "opportunity",
    "won": "won",
    "lost": "lost",
    "cohort_mqls": "mql",
    "cohort_sqls": "sql",
    "cohort_opportunities": "opportunity",
    "cohort_won": "won",
}


def lead_link_params(
    *,
    measure: str,
    period_start: date,
    period_end: date,
    filters: Mapping[str, str],
    slice_filters: Mapping[str, str],
) -> dict[str, str] | None:
    """LeadFilter parameters selecting the leads a funnel measure counts; None when it has no lead list.

    Flow counts (mqls …) are the leads that reached the stage in the period; cohort counts
    (cohort_mqls …) the leads created in the period that reached it; leads, the leads created.
    """
    last_day = (period_end - timedelta(days=1)).isoformat()
    params = {key: value for key, value in filters.items() if key in DASHBOARD_FILTERS and value}
    params.update(slice_filters)
    if measure in ("leads",) or measure.startswith("cohort_"):
        params.update(created_from=period_start.isoformat(), created_to=last_day)
        if measure in REACHED_BY_MEASURE:
            params["reached"] = REACHED_BY_MEASURE[measure]
        return params
    if measure in REACHED_BY_MEASURE:
        params.update(
            reached=REACHED_BY_MEASURE[measure], reached_from=period_start.isoformat(), reached_to=last_day
        )
        return params
    return None


def slice_filters(*, group_by: Sequence[str], row: Mapping[str, Any]) -> dict[str, str] | None:
    """LeadFilter parameters selecting one slice of a table; None when the lead list cannot select it."""
    params = {}
    for name in group_by:
        dimension = queries.DIMENSIONS[name]
        if not dimension.lead_filter:
            return None
        value = row[name]
        if value == "":
            if dimension.none_filter is None:
                return None
            value = dimension.none_filter
        params[dimension.lead_filter] = value
    return params


# --- Snapshots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestRuns:
    done: SnapshotRun | None  # the snapshot the dashboards read ("as of")
    newest: SnapshotRun | None  # the latest run in any state: a "recompute now" in progress


# Both latest runs of one organization in one statement. Written out: every dashboard page reads
# it, and the ORM spent more composing the union than PostgreSQL spent answering it.
LATEST_RUNS_SQL = f"""
(SELECT r.*, true AS latest_done FROM {SnapshotRun._meta.db_table} r
 WHERE r.organization_id = %(org)s AND r.status = '{SnapshotRun.Status.DONE}'
 ORDER BY r.finished_at DESC, r.queued_at DESC LIMIT 1)
UNION ALL
(SELECT r.*, false FROM {SnapshotRun._meta.db_table} r
 WHERE r.organization_id = %(org)s ORDER BY r.queued_at DESC LIMIT 1)"""


def snapshot_runs_latest(*, org: Organization) -> LatestRuns:
    """Both latest runs a dashboard page shows, in one statement."""
    found = {run.latest_done: run for run in SnapshotRun.objects.raw(LATEST_RUNS_SQL, {"org": org.pk})}
    return LatestRuns(done=found.get(True), newest=found.get(False))


def snapshot_run_latest(*, org: Organization, done_only: bool = True) -> SnapshotRun | None:
    runs = SnapshotRun.objects.filter(organization=org)
    if done_only:
        runs = runs.filter(status=SnapshotRun.Status.DONE)
    return (
        runs.order_by("-finished_at", "-queued_at").first()
        if done_only
        else runs.order_by("-queued_at").first()
    )


def snapshot_runs_recent(*, org: Organization, limit: int = 20) -> list[SnapshotRun]:
    return list(
        SnapshotRun.objects.filter(organization=org)
        .select_related("requested_by")
        .order_by("-queued_at")[:limit]
    )


def snapshot_run_get(*, org: Organization, run_id: int) -> SnapshotRun:
    """Raises SnapshotRun.DoesNotExist (→ 404) for another organization's run."""
    return SnapshotRun.objects.get(organization=org, pk=run_id)


def snapshot_slices(
    *,
    org: Organization,
    metrics: Sequence[str],
    grain: str,
    dimension: str,
    date_from: date,
    date_to: date,
) -> dict[tuple[date, str], dict[str, Value]]:
    """Snapshot metrics per (period start, slice key) of ``dimension`` ("" = the organization's total).

    Periods of ``grain`` starting in [date_from, date_to]; only the slices the snapshot
    stored (those with events) are present. A slice key is text, "" for no value.
    """
    found: dict[tuple[date, str], dict[str, Value]] = {}
    snapshots = MetricSnapshot.objects.filter(
        organization=org,
        grain=grain,
        dimension=dimension,
        period_start__gte=date_from,
        period_start__lte=date_to,
    ).values_list("period_start", "dimension_value", "measures")
    for period_start, dimension_value, measures in snapshots:
        values: dict[str, Value] = {}
        for name in metrics:
            metric = REGISTRY[name]
            numerator = float(measures[metric.numerator])
            if metric.denominator is None:
                values[name] = Value(numerator, numerator)
            else:
                denominator = float(measures[metric.denominator])
                values[name] = Value(numerator / denominator if denominator else None, numerator, denominator)
        found[(period_start, dimension_value)] = values
    return found


def snapshot_series(
    *, org: Organization, metrics: Sequence[str], grain: str, date_from: date, date_to: date
) -> dict[date, dict[str, Value]]:
    """Organization totals of snapshot metrics per period of ``grain`` starting in [date_from, date_to].

    Only periods with events are present.
    """
    slices = snapshot_slices(
        org=org, metrics=metrics, grain=grain, dimension="", date_from=date_from, date_to=date_to
    )
    return {period_start: values for (period_start, _), values in slices.items()}


# --- Live view of today ------------------------------------------------------------------------


def today_activity(*, org: Organization, now: datetime | None = None) -> dict[str, Any]:
    """Today's intake (local day so far): new leads by source and owner, stage moves by stage and rep."""
    now = now or timezone.now()
    today = timezone.localtime(now, org.tzinfo).date()
    start = local_midnight(today, org.tzinfo)
    leads = Lead.objects.filter(organization=org, deleted_at__isnull=True, created_at__gte=start)
    by_source = list(
        leads.values("source_id", "source__name")
        .annotate(count=Count("id"))
        .order_by("-count", "source__name")
    )
    by_owner = list(
        leads.values("owner_id", "owner__full_name", "owner__email")
        .annotate(count=Count("id"))
        .order_by("-count", "owner__email")
    )
    moves = StageTransition.objects.filter(
        organization=org, at__gte=start, lead__deleted_at__isnull=True
    ).exclude(from_stage="")
    by_stage = list(moves.values("to_stage").annotate(count=Count("id")).order_by("to_stage"))
    by_rep = list(
        moves.values("by_id", "by__full_name", "by__email")
        .annotate(count=Count("id"))
        .order_by("-count", "by__email")
    )
    return {
        "day": today,
        "as_of": now,
        "new_leads": sum(row["count"] for row in by_source),
        "stage_moves": sum(row["count"] for row in by_stage),
        "by_source": by_source,
        "by_owner": by_owner,
        "moves_by_stage": by_stage,
        "moves_by_rep": by_rep,
    }
