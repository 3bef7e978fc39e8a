"""Marketing dashboards: thin views over reports.selectors; every table is also a CSV."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from leads.filters import filter_options_version
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.permissions import org_permission_required
from reports import selectors, services
from reports.forms import DashboardForm, DashboardLeadFilter, ReportSettingsForm
from reports.metrics import REGISTRY, SNAPSHOT_METRICS, Metric, Unit, Value, growth
from reports.models import SnapshotRun
from reports.periods import CUSTOM, period_next, period_previous, period_starts
from reports.quarterly.formatting import major_units
from reports.queries import DIMENSIONS

BREAKDOWN_METRICS: dict[str, tuple[str, ...]] = {
    "source": ("leads", "lead_to_mql", "mql_to_sql", "spend", "cpl", "cac"),
    "campaign": ("leads", "lead_conversion", "spend", "roi", "roas"),
    "region": ("leads", "leads_share"),
    "country": ("leads", "leads_share"),
    "industry": ("leads", "lead_to_mql", "mql_to_sql"),
    "segment": ("leads", "lead_to_mql", "mql_to_sql", "lead_conversion"),
    "owner": ("leads", "won", "lead_conversion", "time_to_first_contact", "first_contact_within_sla"),
    "channel_type": ("leads", "lead_to_mql", "mql_to_sql", "spend", "cpl", "cac"),
    "partner": ("leads", "leads_share", "lead_to_mql", "won", "lead_conversion"),
}
TREND_METRICS = ("leads", "mqls", "sqls", "opportunities", "won")
VELOCITY_METRICS = (
    "time_to_first_contact",
    "first_contact_within_sla",
    "time_to_first_meeting",
    "opportunity_creation_velocity",
    "sales_cycle",
    "pipeline_value",
    "weighted_pipeline",
    "pipeline_growth",
    "pipeline_velocity",
    "cac",
    "ltv",
    "ltv_to_cac",
    "payback_months",
)
# The referral section of the velocity page (the referrals app computes virality and its cycle time).
REFERRAL_METRICS = ("referral_conversion", "referral_mql_rate", "virality", "viral_cycle_time")
STAGE_ROWS = (
    # stage label, flow count metric, rate into the next stage, benchmark setting
    ("Leads", "leads", "lead_to_mql", "benchmark_lead_to_mql"),
    ("MQLs", "mqls", "mql_to_sql", "benchmark_mql_to_sql"),
    ("SQLs", "sqls", "sql_to_opportunity", "benchmark_sql_to_opportunity"),
    ("Opportunities", "opportunities", "opportunity_to_close", "benchmark_opportunity_to_close"),
    ("Won", "won", None, None),
)


def format_value(value: Value | None, unit: Unit, currency: str) -> str:
    """A metric value as a dashboard shows it (docs/metrics.md, Rounding): "—" when there is none."""
    if value is None or value.value is None:
        return "—"
    number = value.value
    if unit == Unit.COUNT:
        return f"{round(number):,}"
    if unit == Unit.RATE:
        return f"{number * 100:.1f} %"
    if unit == Unit.MONEY:
        return f"{major_units(number, currency):,} {currency}"
    if unit == Unit.RATIO:
        return f"{number:.2f}"
    return f"{number:.1f}"


def _filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "") for key in selectors.DASHBOARD_FILTERS if request.GET.get(key)}


def _context(request: HttpRequest) -> tuple[DashboardForm, SimpleLazyObject, dict[str, str]]:
    form = DashboardForm(request.GET)  # bound even when empty: every field has a default
    if not form.is_valid():
        raise ValidationError(form.errors.get_json_data())
    # Only the filter bar reads it, and a bar rendered before for the same query and options
    # comes from the cache (reports/_layout.html): then it is never built. Invalid lead filters
    # never reach the bar: metric_table refuses them first (a 400 page).
    lead_filter = SimpleLazyObject(lambda: _shown_lead_filter(request))
    return form, lead_filter, _filters(request)


def _shown_lead_filter(request: HttpRequest) -> DashboardLeadFilter:
    lead_filter = DashboardLeadFilter(_filters(request), organization=request.organization)
    lead_filter.load_display_choices()
    return lead_filter


def _link(org: Organization, metric: Metric, row: Mapping[str, Any], group_by, filters) -> str | None:
    measure = metric.numerator
    if measure is None:
        return None
    slice_params = selectors.slice_filters(group_by=group_by, row=row)
    if slice_params is None:
        return None
    params = selectors.lead_link_params(
        measure=measure,
        period_start=row["period_start"],
        period_end=row["period_end"],
        filters=filters,
        slice_filters=slice_params,
    )
    return None if params is None else selectors.lead_list_url(org=org, params=params)


def _table(
    *, org: Organization, table: selectors.MetricTable, filters: Mapping[str, str], row_label
) -> dict[str, Any]:
    """Rows of cells (display text, raw value, link to the leads) for the template and the CSV."""
    rows = []
    for row in table.rows:
        cells = []
        for metric in table.metrics:
            value = row["values"][metric.name]
            cells.append(
                {
                    "metric": metric,
                    "value": value,
                    "display": format_value(value, metric.unit, org.currency),
                    "link": _link(org, metric, row, table.group_by, filters)
                    if value.value is not None
                    else None,
                }
            )
        rows.append({"label": row_label(row), "row": row, "cells": cells})
    for metric_index, metric in enumerate(table.metrics):
        if metric.name.endswith("_share"):
            shown = selectors.reconciled_percentages([r["cells"][metric_index]["value"].value for r in rows])
            for r, percent in zip(rows, shown, strict=True):
                r["cells"][metric_index]["display"] = "—" if percent is None else f"{percent} %"
    return {"metrics": table.metrics, "rows": rows}


def _csv(filename: str, table: dict[str, Any], group_by: Sequence[str]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "period_start",
            "period_end",
            *[column for name in group_by for column in (name, f"{name}_label")],
            *[metric.name for metric in table["metrics"]],
        ]
    )
    for item in table["rows"]:
        row = item["row"]
        label_cells = [_csv_text(row[column]) for name in group_by for column in (name, f"{name}_label")]
        values = ["" if cell["value"].value is None else repr(cell["value"].value) for cell in item["cells"]]
        writer.writerow(
            [row["period_start"].isoformat(), row["period_end"].isoformat(), *label_cells, *values]
        )
    return response


def _csv_text(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ TAB CR is read as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _latest_runs(request: HttpRequest) -> selectors.LatestRuns:
    """Read once per request: the page's "as of" and the metrics it shows use the same run."""
    if not hasattr(request, "_latest_snapshot_runs"):
        request._latest_snapshot_runs = selectors.snapshot_runs_latest(org=request.organization)
    return request._latest_snapshot_runs


def _page(request: HttpRequest, template: str, **context) -> HttpResponse:
    org = request.organization
    if "lead_filter" in context:
        context["filter_bar_version"] = filter_options_version(organization_id=org.pk)
    context.setdefault("as_of", timezone.localtime(timezone.now(), org.tzinfo))
    runs = _latest_runs(request)
    done = runs.done
    context["snapshot_as_of"] = timezone.localtime(done.started_at, org.tzinfo) if done else None
    context["pending_run"] = runs.newest
    context["query"] = request.GET.urlencode()
    # Times on the dashboards are the organization's local times.
    with timezone.override(org.tzinfo):
        return render(request, template, context)


def _bad_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return render(
        request,
        "reports/invalid.html",
        {"errors": exc.message_dict if hasattr(exc, "error_dict") else {}},
        status=400,
    )


@org_permission_required("dashboards.view")
def funnel_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organization
    try:
        form, lead_filter, filters = _context(request)
        basis = form.cleaned_data["basis"]
        suffix = "" if basis == "cohort" else "_flow"
        rate_names = [f"{rate}{suffix}" for _, _, rate, _ in STAGE_ROWS if rate]
        names = [count for _, count, _, _ in STAGE_ROWS] + rate_names
        table = selectors.metric_table(
            org=org,
            metrics=names,
            period=CUSTOM,
            group_by=[],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            filters=filters,
            snapshot_run=_latest_runs(request).done,
        )
    except ValidationError as exc:
        return _bad_request(request, exc)
    row = table.rows[0]
    settings_row = table.settings  # the benchmarks beside the rates they were computed with
    stages = []
    for label, count_name, rate, benchmark_field in STAGE_ROWS:
        # Cohort: a stage's count is the cohort that reached it (the numerator of the rate into it).
        count_metric = REGISTRY[count_name]
        if basis == "cohort" and stages:
            count_metric = REGISTRY[stages[-1]["rate_metric"].name]
            count_value = Value(row["values"][count_metric.name].numerator)
            count_link = _link(org, count_metric, row, [], filters)
        else:
            count_value = row["values"][count_name]
            count_link = _link(org, count_metric, row, [], filters)
        rate_metric = REGISTRY[f"{rate}{suffix}"] if rate else None
        rate_value = row["values"][rate_metric.name] if rate_metric else None
        benchmark = getattr(settings_row, benchmark_field) if benchmark_field else None
        below = (
            rate_value is not None
            and rate_value.value is not None
            and benchmark is not None
            and rate_value.value * 100 < float(benchmark)
        )
        stages.append(
            {
                "label": label,
                "count": format_value(count_value, Unit.COUNT, org.currency),
                "count_raw": count_value.value,
                "count_link": count_link,
                "rate_metric": rate_metric,
                "rate": format_value(rate_value, Unit.RATE, org.currency) if rate_metric else "",
                "rate_raw": rate_value.value if rate_value else None,
                "benchmark": f"{benchmark:.1f} %" if benchmark is not None else "",
                "below": below,
            }
        )
    gaps = [
        (float(getattr(settings_row, field)) - stage["rate_raw"] * 100, index)
        for index, ((_, _, _, field), stage) in enumerate(zip(STAGE_ROWS, stages, strict=True))
        if field and stage["rate_raw"] is not None
    ]
    if gaps and max(gaps)[0] > 0:
        stages[max(gaps)[1]]["biggest_leak"] = True
    if request.GET.get("format") == "csv":
        flat = _table(org=org, table=table, filters=filters, row_label=lambda r: "")
        return _csv("funnel", flat, [])
    chart = {
        "type": "funnel",
        "labels": [stage["label"] for stage in stages],
        "values": [stage["count_raw"] or 0 for stage in stages],
    }
    return _page(
        request,
        "reports/funnel.html",
        form=form,
        lead_filter=lead_filter,
        stages=stages,
        basis=basis,
        chart=chart,
        table=table,
    )


def _trend_rows(
    *,
    org: Organization,
    grain: str,
    date_from: date,
    date_to: date,
    filters: Mapping[str, str],
    latest: SnapshotRun | None,
) -> list[dict[str, Any]]:
    """One row per period: each volume and its change on the period before.

    History comes from the nightly snapshots when they can answer (no lead filter, a
    snapshotted grain, periods that ended before the snapshot); the rest is live SQL.
    """
    starts = period_starts(date_from, date_to + timedelta(days=1), grain)
    previous_start = period_previous(starts[0], grain)
    snapshot_until = timezone.localtime(latest.started_at, org.tzinfo).date() if latest else None
    usable = (
        latest is not None
        and not filters
        and grain in services.SNAPSHOT_GRAINS
        and date_from == starts[0]
        and all(REGISTRY[name] in SNAPSHOT_METRICS for name in TREND_METRICS)
    )
    from_snapshot: dict[date, dict[str, Value]] = {}
    if usable:
        complete = [s for s in [previous_start, *starts] if period_next(s, grain) <= snapshot_until]
        if complete:
            # A period the snapshot has no row for (no events, or a snapshot not rebuilt since
            # the storage changed) is computed live: never read as zero.
            from_snapshot = selectors.snapshot_series(
                org=org, metrics=TREND_METRICS, grain=grain, date_from=complete[0], date_to=complete[-1]
            )
    live: dict[date, dict[str, Value]] = {}

    def live_values(first: date, last: date) -> None:
        table = selectors.metric_table(
            org=org,
            metrics=TREND_METRICS,
            period=grain,
            group_by=[],
            date_from=first,
            date_to=last,
            filters=filters,
            snapshot_run=latest,
        )
        live.update({row["period_start"]: row["values"] for row in table.rows})

    live_starts = [s for s in starts if s not in from_snapshot]
    if live_starts:
        live_values(max(live_starts[0], date_from), date_to)
    if previous_start not in from_snapshot:
        # The change of the first period compares it with the whole period before it.
        live_values(previous_start, starts[0] - timedelta(days=1))
    rows = []
    previous_values = from_snapshot.get(previous_start) or live.get(previous_start) or {}
    for start in starts:
        values = from_snapshot.get(start) if start in from_snapshot else live.get(start, {})
        end = min(period_next(start, grain), date_to + timedelta(days=1))
        cells = []
        for name in TREND_METRICS:
            value = values.get(name) or Value(0.0, 0.0)
            before = previous_values.get(name) or Value(0.0, 0.0)
            change = growth(value.value, before.value)
            cells.append({"name": name, "value": value, "change": change})
        rows.append(
            {
                "period_start": max(start, date_from),
                "period_end": end,
                "source": "snapshot" if start in from_snapshot else "live",
                "cells": cells,
            }
        )
        previous_values = values
    return rows


@org_permission_required("dashboards.view")
def trends_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organization
    try:
        form, lead_filter, filters = _context(request)
        grain = form.cleaned_data["grain"]
        rows = _trend_rows(
            org=org,
            grain=grain,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            filters=filters,
            latest=_latest_runs(request).done,
        )
    except ValidationError as exc:
        return _bad_request(request, exc)
    for row in rows:
        for cell in row["cells"]:
            metric = REGISTRY[cell["name"]]
            cell["display"] = format_value(cell["value"], Unit.COUNT, org.currency)
            cell["change_display"] = format_value(cell["change"], Unit.RATE, org.currency)
            params = selectors.lead_link_params(
                measure=metric.numerator,
                period_start=row["period_start"],
                period_end=row["period_end"],
                filters=filters,
                slice_filters={},
            )
            cell["link"] = selectors.lead_list_url(org=org, params=params) if params else None
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="trends.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["period_start", "period_end", "source", *[c for n in TREND_METRICS for c in (n, f"{n}_change")]]
        )
        for row in rows:
            writer.writerow(
                [
                    row["period_start"].isoformat(),
                    row["period_end"].isoformat(),
                    row["source"],
                    *[
                        "" if v is None else repr(v)
                        for cell in row["cells"]
                        for v in (cell["value"].value, cell["change"].value)
                    ],
                ]
            )
        return response
    chart = {
        "type": "lines",
        "x": [row["period_start"].isoformat() for row in rows],
        "series": [
            {"name": REGISTRY[name].label, "values": [row["cells"][index]["value"].value for row in rows]}
            for index, name in enumerate(TREND_METRICS)
        ],
    }
    return _page(
        request,
        "reports/trends.html",
        form=form,
        lead_filter=lead_filter,
        rows=rows,
        metrics=[REGISTRY[name] for name in TREND_METRICS],
        chart=chart,
    )


@org_permission_required("dashboards.view")
def breakdown_dashboard(request: HttpRequest, dimension: str) -> HttpResponse:
    if dimension not in BREAKDOWN_METRICS:
        raise Http404("No such breakdown")
    org = request.organization
    try:
        form, lead_filter, filters = _context(request)
        table = selectors.metric_table(
            org=org,
            metrics=BREAKDOWN_METRICS[dimension],
            period=CUSTOM,
            group_by=[dimension],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            filters=filters,
            snapshot_run=_latest_runs(request).done,
        )
    except ValidationError as exc:
        return _bad_request(request, exc)
    shown = _table(org=org, table=table, filters=filters, row_label=lambda r: r[f"{dimension}_label"])
    if request.GET.get("format") == "csv":
        return _csv(f"breakdown-{dimension}", shown, [dimension])
    chart = {
        "type": "bars",
        "labels": [row["label"] for row in shown["rows"]],
        "values": [row["cells"][0]["value"].value or 0 for row in shown["rows"]],
        "name": REGISTRY[BREAKDOWN_METRICS[dimension][0]].label,
    }
    return _page(
        request,
        "reports/breakdown.html",
        form=form,
        lead_filter=lead_filter,
        dimension=DIMENSIONS[dimension],
        dimensions=[DIMENSIONS[name] for name in BREAKDOWN_METRICS],
        table=shown,
        chart=chart,
    )


@org_permission_required("dashboards.view")
def velocity_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organization
    try:
        form, lead_filter, filters = _context(request)
        table = selectors.metric_table(
            org=org,
            metrics=VELOCITY_METRICS + REFERRAL_METRICS,
            period=CUSTOM,
            group_by=[],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            filters=filters,
            snapshot_run=_latest_runs(request).done,
        )
    except ValidationError as exc:
        return _bad_request(request, exc)
    shown = _table(org=org, table=table, filters=filters, row_label=lambda r: "")
    if request.GET.get("format") == "csv":
        return _csv("velocity", shown, [])
    cells = shown["rows"][0]["cells"][: len(VELOCITY_METRICS)]
    referral_cells = shown["rows"][0]["cells"][len(VELOCITY_METRICS) :]
    chart = {
        "type": "bars",
        "labels": [cell["metric"].label for cell in cells if cell["metric"].unit in (Unit.DAYS, Unit.HOURS)],
        "values": [
            cell["value"].value or 0 for cell in cells if cell["metric"].unit in (Unit.DAYS, Unit.HOURS)
        ],
        "name": "Median",
    }
    return _page(
        request,
        "reports/velocity.html",
        form=form,
        lead_filter=lead_filter,
        sections=[("Speed and pipeline", cells), ("Referral program", referral_cells)],
        chart=chart,
    )


@org_permission_required("dashboards.view")
def live_dashboard(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/live.html", today=selectors.today_activity(org=request.organization))


def _person(row: Mapping[str, Any], prefix: str) -> str:
    return row.get(f"{prefix}__full_name") or row.get(f"{prefix}__email") or "Unassigned"


@org_permission_required("dashboards.view")
def live_data(request: HttpRequest) -> JsonResponse:
    today = selectors.today_activity(org=request.organization)
    return JsonResponse(
        {
            "as_of": timezone.localtime(today["as_of"], request.organization.tzinfo).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "new_leads": today["new_leads"],
            "stage_moves": today["stage_moves"],
            "by_source": [[row["source__name"] or "(none)", row["count"]] for row in today["by_source"]],
            "by_owner": [[_person(row, "owner"), row["count"]] for row in today["by_owner"]],
            "moves_by_stage": [[row["to_stage"], row["count"]] for row in today["moves_by_stage"]],
            "moves_by_rep": [[_person(row, "by"), row["count"]] for row in today["moves_by_rep"]],
        }
    )


@org_permission_required("dashboards.view")
def methodology(request: HttpRequest) -> HttpResponse:
    return _page(request, "reports/methodology.html", metrics=list(REGISTRY.values()))


@org_permission_required("reports.edit")
def report_settings(request: HttpRequest) -> HttpResponse:
    org = request.organization
    current = selectors.report_settings_get(org=org)
    form = ReportSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_settings_update(org=org, data=form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Report settings saved.")
            return redirect("dashboards_settings", org_slug=org.slug)
    return _page(request, "reports/settings.html", settings_form=form)


@org_permission_required("reports.edit")
def snapshots(request: HttpRequest) -> HttpResponse:
    """GET: the recent recomputes (when, how long, how they went); POST: "recompute now"."""
    if request.method != "POST":
        return _page(
            request, "reports/snapshots.html", runs=selectors.snapshot_runs_recent(org=request.organization)
        )
    run = services.snapshot_run_request(org=request.organization, actor=request.user)
    messages.info(request, "Recompute queued: the snapshot time updates when it is done.")
    back = request.POST.get("next", "")
    if not back.startswith(f"/o/{request.organization.slug}/dashboards/"):
        back = reverse("dashboards_funnel", kwargs={"org_slug": request.organization.slug})
    separator = "&" if "?" in back else "?"
    return redirect(f"{back}{separator}run={run.pk}")


@org_permission_required("dashboards.view")
def run_status(request: HttpRequest, run_id: int) -> JsonResponse:
    org = request.organization
    try:
        run = selectors.snapshot_run_get(org=org, run_id=run_id)
    except SnapshotRun.DoesNotExist as exc:
        raise Http404("No such run") from exc
    progress = cache.get(services.snapshot_progress_key(org_id=org.pk, run_id=run.pk))
    status = run.status
    if status == SnapshotRun.Status.QUEUED and progress:
        status = SnapshotRun.Status.RUNNING
    return JsonResponse(
        {
            "id": run.pk,
            "status": status,
            "done": progress["done"] if progress else (1 if status == SnapshotRun.Status.DONE else 0),
            "total": progress["total"] if progress else 1,
            "finished_at": (
                timezone.localtime(run.finished_at, org.tzinfo).strftime("%Y-%m-%d %H:%M:%S")
                if run.finished_at
                else None
            ),
            "duration_ms": run.duration_ms,
            "error": run.error,
        }
    )
