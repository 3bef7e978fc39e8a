"""Attribution and e-mail engagement dashboards, and the e-mail webhook's settings: thin views."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from leadtrack.tenancy.permissions import org_permission_required
from reports import selectors as report_selectors
from reports.attribution import selectors, services
from reports.attribution.forms import AttributionForm, PeriodForm
from reports.metrics import ATTRIBUTION_MODELS, REGISTRY, Unit, Value
from reports.views import format_value

LEAD_KPIS = ("inbound_leads", "first_contact_engagement")
SOURCE_KPIS = ("leads", "signup_source_quality")
EMAIL_RATES = ("email_open_rate", "email_click_rate", "email_unsubscribe_rate")


def _today(request: HttpRequest):
    return timezone.localtime(timezone.now(), request.organization.tzinfo).date()


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    org = request.organization
    context.setdefault("as_of", timezone.localtime(timezone.now(), org.tzinfo))
    context["query"] = request.GET.urlencode()
    with timezone.override(org.tzinfo):
        return render(request, template, context)


def _invalid(request: HttpRequest, errors: dict) -> HttpResponse:
    return render(request, "reports/invalid.html", {"errors": errors}, status=400)


def _csv_text(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ TAB CR is read as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_response(filename: str, header: list[str], rows: list[list[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if cell is None else _csv_text(cell) if isinstance(cell, str) else cell for cell in row]
        )
    return response


def _cells(values: dict[str, Value], names: tuple[str, ...] | list[str], currency: str) -> list[dict]:
    return [
        {
            "metric": REGISTRY[name],
            "value": values[name],
            "display": format_value(values[name], REGISTRY[name].unit, currency),
        }
        for name in names
    ]


def _credit_display(value: float) -> str:
    # Fractions of a conversion are what the multi-touch models produce: two decimals.
    return f"{value:,.2f}"


@org_permission_required("dashboards.view")
def attribution_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = AttributionForm(request.GET, today=_today(request))
    if not form.is_valid():
        return _invalid(request, form.errors.get_json_data())
    data = form.cleaned_data
    model, conversion, dimension = data["model"], data["conversion"], data["dimension"]
    table = selectors.attribution_table(
        org=org,
        model=model,
        conversion=conversion,
        dimension=dimension,
        date_from=data["date_from"],
        date_to=data["date_to"],
    )
    credit_metric = REGISTRY[f"attribution_{model}"]
    if request.GET.get("format") == "csv":
        return _csv_response(
            f"attribution-{model}-{conversion}-{dimension}",
            ["period_start", "period_end", "model", "conversion", dimension, "credit", "won_amount", "leads"],
            [
                [
                    data["date_from"].isoformat(),
                    data["date_to"].isoformat(),
                    model,
                    conversion,
                    row["label"],
                    repr(row["values"][credit_metric.name].value),
                    repr(row["values"]["attributed_won_revenue"].value),
                    row["leads"],
                ]
                for row in table.rows
            ],
        )
    rows = [
        {
            "label": row["label"],
            "credit": _credit_display(row["values"][credit_metric.name].value),
            "share": format_value(
                Value(
                    row["values"][credit_metric.name].value / table.total.value if table.total.value else None
                ),
                Unit.RATE,
                org.currency,
            ),
            "revenue": format_value(row["values"]["attributed_won_revenue"], Unit.MONEY, org.currency),
            "leads": row["leads"],
        }
        for row in table.rows
    ]
    returns = selectors.campaign_returns(
        org=org, model=model, date_from=data["date_from"], date_to=data["date_to"]
    )
    return_names = [credit_metric.name, "attributed_won_revenue", "attributed_cac", "attributed_roi"]
    returns_shown = [
        {"label": row["label"], "cells": _cells(row["values"], return_names, org.currency)} for row in returns
    ]
    for row in returns_shown:
        row["cells"][0]["display"] = _credit_display(row["cells"][0]["value"].value)
    kpi_filters: dict[str, str] = {}
    kpis = report_selectors.metric_table(
        org=org,
        metrics=LEAD_KPIS,
        period="custom",
        group_by=[],
        date_from=data["date_from"],
        date_to=data["date_to"],
        filters=kpi_filters,
    )
    by_source = report_selectors.metric_table(
        org=org,
        metrics=SOURCE_KPIS,
        period="custom",
        group_by=["source"],
        date_from=data["date_from"],
        date_to=data["date_to"],
        filters=kpi_filters,
    )
    chart = {
        "type": "bars",
        "labels": [row["label"] for row in rows],
        "values": [row["values"][credit_metric.name].value for row in table.rows],
        "name": credit_metric.label,
    }
    return _page(
        request,
        "attribution/attribution.html",
        form=form,
        model_metric=credit_metric,
        model_label=ATTRIBUTION_MODELS[model][0],
        conversion_label=selectors.CONVERSIONS[conversion],
        dimension_label=selectors.DIMENSIONS[dimension],
        rows=rows,
        total=_credit_display(table.total.value),
        conversions=table.conversions,
        returns=returns_shown,
        return_metrics=[REGISTRY[name] for name in return_names],
        kpis=_cells(kpis.rows[0]["values"], LEAD_KPIS, org.currency),
        by_source=[
            {"label": row["source_label"], "cells": _cells(row["values"], SOURCE_KPIS, org.currency)}
            for row in by_source.rows
        ],
        source_metrics=[REGISTRY[name] for name in SOURCE_KPIS],
        chart=chart,
    )


@org_permission_required("dashboards.view")
def email_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = PeriodForm(request.GET, today=_today(request))
    if not form.is_valid():
        return _invalid(request, form.errors.get_json_data())
    data = form.cleaned_data
    rows = selectors.email_engagement(org=org, date_from=data["date_from"], date_to=data["date_to"])
    if request.GET.get("format") == "csv":
        return _csv_response(
            "email-engagement",
            ["period_start", "period_end", "campaign", "delivered", *EMAIL_RATES],
            [
                [
                    data["date_from"].isoformat(),
                    data["date_to"].isoformat(),
                    row["label"],
                    row["delivered"],
                    *[
                        "" if row["values"][n].value is None else repr(row["values"][n].value)
                        for n in EMAIL_RATES
                    ],
                ]
                for row in rows
            ],
        )
    return _page(
        request,
        "attribution/email.html",
        form=form,
        rows=[
            {
                "label": row["label"],
                "delivered": row["delivered"],
                "cells": _cells(row["values"], EMAIL_RATES, org.currency),
            }
            for row in rows
        ],
        metrics=[REGISTRY[name] for name in EMAIL_RATES],
    )


@org_permission_required("tracking.manage")
def email_settings(request: HttpRequest) -> HttpResponse:
    """GET: the endpoint URL and secret; POST: create the endpoint, or rotate its key and secret."""
    org = request.organization
    endpoint = selectors.email_endpoint_get(org=org)
    if request.method == "POST":
        services.email_endpoint_rotate(org=org, actor=request.user)
        messages.success(
            request,
            "New endpoint URL and secret: update your e-mail service; the old ones no longer work."
            if endpoint
            else "Endpoint created: paste its URL and secret into your e-mail service.",
        )
        return redirect("attribution_email_settings", org_slug=org.slug)
    url = (
        request.build_absolute_uri(reverse("email_events_hook", kwargs={"endpoint_key": endpoint.key}))
        if endpoint
        else None
    )
    return _page(request, "attribution/email_settings.html", endpoint=endpoint, endpoint_url=url)
