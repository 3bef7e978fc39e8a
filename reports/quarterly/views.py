"""The quarterly referral report page, its exports and the manager's notes and subscription (thin views)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from leadtrack.tenancy.permissions import org_permission_required
from reports.quarterly import exports, services
from reports.quarterly.charts import monthly_chart
from reports.quarterly.forms import ReportNotesForm, SubscriptionForm
from reports.quarterly.models import ReportSubscription
from reports.quarterly.selectors import Quarter, quarterly_report
from reports.quarterly.tables import as_of_text, report_tables


def quarter_or_404(year: int, quarter: int) -> Quarter:
    try:
        return Quarter(year, quarter)
    except ValueError:
        raise Http404("No such quarter") from None


def export_response(report: dict, fmt: str) -> HttpResponse:
    response = HttpResponse(exports.render(report, fmt), content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(report, fmt)}"'
    return response


def _report_url(request: HttpRequest, quarter: Quarter) -> str:
    return reverse(
        "quarterly_report",
        kwargs={"org_slug": request.organization.slug, "year": quarter.year, "quarter": quarter.number},
    )


@org_permission_required("reports.view")
def quarterly_report_latest(request: HttpRequest) -> HttpResponse:
    """The last quarter that has ended, in the organization's calendar."""
    today = timezone.localdate(timezone=request.organization.tzinfo)
    return redirect(_report_url(request, Quarter.containing(today).previous()))


@org_permission_required("reports.view")
def quarterly_report_view(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    period = quarter_or_404(year, quarter)
    fmt = request.GET.get("format", "")
    if fmt and fmt not in exports.FORMATS:
        return HttpResponseBadRequest(
            f"format: choose one of {', '.join(exports.FORMATS)}, or leave it out for the page.",
            content_type="text/plain; charset=utf-8",
        )
    report = quarterly_report(org=request.organization, quarter=period)
    if fmt:
        return export_response(report, fmt)
    tables = {table.key: table for table in report_tables(report)}
    subscribed = ReportSubscription.objects.filter(
        organization=request.organization, user=request.user
    ).exists()
    return render(
        request,
        "reports/quarterly/report.html",
        {
            "report": report,
            "tables": tables,
            "chart": monthly_chart(report),
            "as_of_text": as_of_text(report),
            "previous_url": _report_url(request, period.previous()),
            "next_url": _report_url(request, period.next()),
            "previous_label": period.previous().label,
            "next_label": period.next().label,
            "formats": exports.FORMATS,
            "subscribed": subscribed,
        },
    )


@org_permission_required("reports.edit")
def quarterly_notes_edit(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    period = quarter_or_404(year, quarter)
    report = quarterly_report(org=request.organization, quarter=period)
    if request.method == "POST":
        form = ReportNotesForm(request.POST)
        if form.is_valid():
            services.report_notes_save(
                org=request.organization,
                actor=request.user,
                quarter=period,
                recommendations=form.cleaned_data["recommendations"],
                next_steps=form.cleaned_data["next_steps"],
            )
            messages.success(request, f"Recommendations and next steps of {period.label} saved.")
            return redirect(_report_url(request, period) + "#recommendations")
    else:
        notes = report["notes"]
        starting_point = "\n".join(f"- {insight}" for insight in report["insights"])
        form = ReportNotesForm(
            initial={
                "recommendations": notes["recommendations"] or starting_point,
                "next_steps": notes["next_steps"],
            }
        )
    return render(
        request,
        "reports/quarterly/notes_form.html",
        {"form": form, "report": report, "report_url": _report_url(request, period)},
    )


@org_permission_required("reports.edit")
def quarterly_subscription(request: HttpRequest) -> HttpResponse:
    """POST: subscribe or unsubscribe oneself to the quarterly e-mail (managers and admins)."""
    if request.method != "POST":
        return redirect("quarterly_report_latest", org_slug=request.organization.slug)
    form = SubscriptionForm(request.POST)
    form.is_valid()  # a boolean: a missing box is "unsubscribe"
    subscribed = services.report_subscription_set(
        org=request.organization, user=request.user, subscribed=form.cleaned_data.get("subscribe", False)
    )
    messages.success(
        request,
        "You will receive each quarter's report by e-mail on the first working day after it ends."
        if subscribed
        else "You will no longer receive the quarterly report by e-mail.",
    )
    next_url = request.POST.get("next", "")
    if next_url.startswith(f"/o/{request.organization.slug}/reports/referrals/"):
        return redirect(next_url)
    return redirect("quarterly_report_latest", org_slug=request.organization.slug)
