"""Tracking pages: the sites and their snippet (tracking.manage), the Web traffic dashboard
(dashboards.view)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from capture.tracking import selectors, services
from capture.tracking.forms import TrackingSiteEditForm, TrackingSiteForm, TrafficForm
from capture.tracking.models import TrackingSite
from leadtrack.tenancy.permissions import org_permission_required
from reports.metrics import REGISTRY
from reports.periods import local_midnight
from reports.selectors import metric_table
from reports.views import format_value

WEB_METRICS = ("website_traffic", "page_views", "unique_page_views", "unique_visitors", "new_visitors")
RATE_METRICS = ("landing_page_conversion",)


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _snippet(request: HttpRequest, site: TrackingSite) -> str:
    src = request.build_absolute_uri(reverse("tracking_script", kwargs={"key": site.key}))
    return f'<script async src="{src}"></script>'


@org_permission_required("tracking.manage")
def site_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = TrackingSiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(org=org, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"Site “{site.name}” created: paste its snippet on every page.")
            return redirect("tracking_site", org_slug=org.slug, site_id=site.pk)
    return render(request, "tracking/sites.html", {"sites": selectors.sites_for_org(org=org), "form": form})


@org_permission_required("tracking.manage")
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    """Another organization's site → 404."""
    org = request.organization
    try:
        site = selectors.site_get(org=org, site_id=site_id)
    except TrackingSite.DoesNotExist as exc:
        raise Http404("No such site") from exc
    initial = {
        "name": site.name,
        "allowed_domains": "\n".join(site.allowed_domains),
        "honour_do_not_track": site.honour_do_not_track,
        "require_consent": site.require_consent,
        "is_active": site.is_active,
    }
    form = TrackingSiteEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(org=org, site_id=site.pk, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, "Site saved.")
            return redirect("tracking_site", org_slug=org.slug, site_id=site.pk)
    return render(
        request,
        "tracking/site.html",
        {
            "site": site,
            "form": form,
            "snippet": _snippet(request, site),
            "consent_stub": "<script>window.leadtrack=window.leadtrack||function(){"
            "(window.leadtrack.q=window.leadtrack.q||[]).push(arguments)};</script>",
            "page_views": selectors.site_page_views(org=org, site=site),
            "page_view_count": selectors.site_page_view_count(org=org, site=site),
        },
    )


@org_permission_required("dashboards.view")
def traffic_dashboard(request: HttpRequest) -> HttpResponse:
    """The web KPIs of the registry over a local date range: totals, per period (table and chart),
    traffic sources and landing pages. The tables are the page; the chart is drawn from them."""
    org = request.organization
    form = TrafficForm(request.GET, time_zone=org.tzinfo)
    if not form.is_valid():
        return render(request, "tracking/traffic.html", {"form": form}, status=400)
    date_from, date_to, grain = (form.cleaned_data[k] for k in ("date_from", "date_to", "grain"))
    names = [*WEB_METRICS, *RATE_METRICS]
    total = metric_table(
        org=org, metrics=names, period="custom", group_by=[], date_from=date_from, date_to=date_to, filters={}
    ).rows[0]
    by_period = metric_table(
        org=org, metrics=names, period=grain, group_by=[], date_from=date_from, date_to=date_to, filters={}
    ).rows
    start = local_midnight(date_from, org.tzinfo)
    end = local_midnight(date_to + timedelta(days=1), org.tzinfo)
    share, conversion = REGISTRY["traffic_source_share"], REGISTRY["landing_page_conversion"]
    sources = [
        {**row, "share": format_value(share.compute(row, None), share.unit, org.currency)}
        for row in selectors.traffic_sources(org=org, start=start, end=end, start_date=date_from)
    ]
    landings = [
        {**row, "rate": format_value(conversion.compute(row, None), conversion.unit, org.currency)}
        for row in selectors.landing_pages(org=org, start=start, end=end, start_date=date_from)
    ]

    def cells(row) -> list[str]:
        return [format_value(row["values"][name], REGISTRY[name].unit, org.currency) for name in names]

    periods = [{"start": row["period_start"], "cells": cells(row)} for row in by_period]
    chart = {
        "type": "lines",
        "x": [row["period_start"].isoformat() for row in by_period],
        "series": [
            {"name": REGISTRY[name].label, "values": [row["values"][name].value for row in by_period]}
            for name in ("website_traffic", "page_views", "unique_visitors")
        ],
    }
    return render(
        request,
        "tracking/traffic.html",
        {
            "form": form,
            "metrics": [REGISTRY[name] for name in names],
            "totals": list(zip([REGISTRY[name] for name in names], cells(total), strict=True)),
            "periods": periods,
            "sources": sources,
            "landings": landings,
            "share_metric": share,
            "conversion_metric": conversion,
            "chart": chart if by_period else None,
            "date_from": date_from,
            "date_to": date_to,
        },
    )
