"""Settings → Privacy: subject export (download), erasure with a confirmation step, retention."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from leadtrack.privacy import registry, selectors, services
from leadtrack.privacy.forms import ErasureConfirmForm, RetentionForm, SubjectForm
from leadtrack.tenancy.permissions import org_permission_required


def _post_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Form targets: a GET (a reload, a bookmarked URL) goes back to the page with the forms."""

    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return redirect("privacy_settings", org_slug=request.organization.slug)
        return view(request)

    return wrapped


def _page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    org = request.organization
    context = {
        "export_form": SubjectForm(prefix="export"),
        "erase_form": SubjectForm(prefix="erase"),
        "retention_form": RetentionForm(instance=selectors.privacy_settings_get(org=org)),
        "holders": registry.holders(),
        "erasures": selectors.erasure_log_recent(org=org),
        **forms,
    }
    return render(request, "privacy/settings.html", context, status=status)


@org_permission_required("org.manage_settings")
def privacy_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


@org_permission_required("org.manage_settings")
@_post_only
def privacy_export(request: HttpRequest) -> HttpResponse:
    """The subject's JSON document as a download."""
    form = SubjectForm(request.POST, prefix="export")
    if not form.is_valid():
        return _page(request, status=400, export_form=form)
    document = services.subject_export(org=request.organization, email=form.cleaned_data["email"])
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="subject-export.json"'
    response["Cache-Control"] = "no-store"
    return response


@org_permission_required("org.manage_settings")
@_post_only
def privacy_erase(request: HttpRequest) -> HttpResponse:
    """Two steps: the address → what will be erased and a confirmation form → the erasure."""
    org = request.organization
    if "confirm_email" not in request.POST:
        form = SubjectForm(request.POST, prefix="erase")
        if not form.is_valid():
            return _page(request, status=400, erase_form=form)
        email = form.cleaned_data["email"]
        confirm = ErasureConfirmForm(initial={"email": email})
    else:
        confirm = ErasureConfirmForm(request.POST)
        if confirm.is_valid():
            erasure = services.subject_erase(org=org, actor=request.user, email=confirm.cleaned_data["email"])
            messages.success(
                request,
                f"Erased: {erasure.lead_count} lead(s), {sum(erasure.counts.values())} record(s) changed.",
            )
            return redirect("privacy_settings", org_slug=org.slug)
        if "email" in confirm.errors:
            # The hidden address was tampered with: show its error on the first step's field.
            first_step = SubjectForm({"erase-email": request.POST.get("email", "")}, prefix="erase")
            first_step.is_valid()
            return _page(request, status=400, erase_form=first_step)
        email = confirm.data.get("email", "")
    preview = services.subject_export(org=org, email=email)
    status = 400 if confirm.is_bound else 200
    return render(
        request,
        "privacy/erase_confirm.html",
        {"form": confirm, "email": email, "counts": preview["counts"], "total": preview["total_records"]},
        status=status,
    )


@org_permission_required("org.manage_settings")
@_post_only
def privacy_retention(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = RetentionForm(request.POST, instance=selectors.privacy_settings_get(org=org))
    if not form.is_valid():
        return _page(request, status=400, retention_form=form)
    services.privacy_settings_update(
        org=org, actor=request.user, retention_months=form.cleaned_data["retention_months"]
    )
    messages.success(request, "Retention saved.")
    return redirect("privacy_settings", org_slug=org.slug)
