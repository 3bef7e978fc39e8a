"""The scoring model page (admins: rules, BANT rule, automatic MQL, rescore all with progress) and
the lead page's BANT checklist (reps who may edit the lead).

Thin views: reads from selectors, writes from services. Another organization's rule, run or lead
is a 404; a member without the permission gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leads.models import Lead
from leads.selectors import lead_can_edit, lead_get
from leads.views import org_page

from . import selectors, services
from .forms import BantForm, ScoringRuleForm, ScoringSettingsForm
from .models import RescoreRun, ScoringRule


def _form_errors_from(exc: ValidationError, form) -> None:
    """A service's field errors onto the form (the form has every field a service names)."""
    for name, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
        form.add_error(name if name in form.fields else None, errors)


def _home(request: HttpRequest) -> HttpResponse:
    return redirect("scoring_home", org_slug=request.organization.slug)


def _rule_or_404(request: HttpRequest, rule_id: int) -> ScoringRule:
    try:
        return selectors.scoring_rule_get(org=request.organization, rule_id=rule_id)
    except ScoringRule.DoesNotExist as exc:
        raise Http404("No such rule") from exc


def _home_page(request: HttpRequest, *, settings_form: ScoringSettingsForm | None = None) -> HttpResponse:
    org = request.organization
    return render(
        request,
        "scoring/home.html",
        {
            "rules": list(selectors.scoring_rule_list(org=org)),
            "settings_form": settings_form
            or ScoringSettingsForm(instance=services.scoring_settings(org=org)),
            "run": selectors.rescore_run_latest(org=org),
        },
    )


@org_page("scoring.manage")
def scoring_home(request: HttpRequest) -> HttpResponse:
    return _home_page(request)


@org_page("scoring.manage")
def scoring_settings_save(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _home(request)
    form = ScoringSettingsForm(request.POST, instance=services.scoring_settings(org=request.organization))
    if form.is_valid():
        try:
            services.scoring_settings_update(
                org=request.organization,
                actor=request.user,
                auto_mql_enabled=form.cleaned_data["auto_mql_enabled"],
                mql_threshold=form.cleaned_data["mql_threshold"],
                bant_required=form.cleaned_data["bant_required"],
            )
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, "Scoring settings saved.")
            return _home(request)
    return _home_page(request, settings_form=form)


def _rule_form_page(request: HttpRequest, rule: ScoringRule | None) -> HttpResponse:
    org = request.organization
    form = ScoringRuleForm(request.POST or None, instance=rule, org=org)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.RULE_FIELDS}
        try:
            if rule is None:
                saved = services.scoring_rule_create(org=org, actor=request.user, data=data)
            else:
                saved = services.scoring_rule_update(org=org, actor=request.user, rule_id=rule.pk, data=data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"Saved rule “{saved}”; all leads are being rescored.")
            return _home(request)
    return render(request, "scoring/rule_form.html", {"form": form, "rule": rule})


@org_page("scoring.manage")
def scoring_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, None)


@org_page("scoring.manage")
def scoring_rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _rule_form_page(request, _rule_or_404(request, rule_id))


@org_page("scoring.manage")
def scoring_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Ask first, then delete (and rescore every lead)."""
    rule = _rule_or_404(request, rule_id)
    if request.method != "POST":
        return render(request, "scoring/rule_confirm_delete.html", {"rule": rule})
    services.scoring_rule_delete(org=request.organization, actor=request.user, rule_id=rule.pk)
    messages.success(request, f"Deleted rule “{rule}”; all leads are being rescored.")
    return _home(request)


@require_POST
@org_page("scoring.manage")
def scoring_rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(request, rule_id)
    try:
        services.scoring_rule_move(
            org=request.organization,
            actor=request.user,
            rule_id=rule.pk,
            direction=request.POST.get("direction", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _home(request)


@org_page("scoring.manage")
def scoring_rescore_all(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.rescore_run_start(
            org=request.organization, actor=request.user, reason=services.ScoreReason.RULES_CHANGED
        )
        messages.success(request, "Rescoring all leads.")
    return _home(request)


@org_page("scoring.manage")
def scoring_run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    """The progress the scoring page polls (static/scoring/progress.js)."""
    try:
        run = selectors.rescore_run_get(org=request.organization, run_id=run_id)
    except RescoreRun.DoesNotExist as exc:
        raise Http404("No such run") from exc
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "status_label": run.get_status_display(),
            "total": run.total,
            "done": run.done,
            "changed": run.changed,
            "percent": run.percent,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
    )


@require_POST
@org_page("leads.qualify")
def lead_bant_update(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Tick the BANT checklist from the lead page: the lead must be visible (else 404) and
    editable by the member under the lead page's rules (else 403)."""
    org, membership = request.organization, request.membership
    try:
        lead = lead_get(org=org, membership=membership, lead_id=lead_id)
    except Lead.DoesNotExist as exc:
        raise Http404("No such lead") from exc
    if not lead_can_edit(membership=membership, lead=lead):
        raise PermissionDenied
    form = BantForm(request.POST)
    if form.is_valid():
        services.bant_update(org=org, actor=request.user, lead_id=lead.pk, **form.cleaned_data)
        messages.success(request, "Qualification checklist saved.")
    return redirect(reverse("lead_detail", kwargs={"org_slug": org.slug, "lead_id": lead.pk}) + "#scoring")
