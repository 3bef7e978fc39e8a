"""Routing pages: rules, teams and the SLA policy (routing.manage), the SLA queue (sla.view) and
one's notifications. Thin: reads from selectors, writes through services; another organization's
rule, team or member is a 404. Pages render in the organization's time zone."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from funnel.routing import selectors, services
from funnel.routing.forms import (
    RoutingRuleForm,
    SlaPolicyForm,
    TeamForm,
    TeamMemberAddForm,
    TeamMemberForm,
)
from leadtrack.tenancy.permissions import org_permission_required

FIRST_CONTACT_DAYS = 30


def org_page(permission: str) -> Callable:
    """``org_permission_required`` plus the organization's time zone; a foreign id → 404."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def in_org(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with timezone.override(request.organization.tzinfo):
                try:
                    return view(request, *args, **kwargs)
                except ObjectDoesNotExist as exc:
                    raise Http404("Not found") from exc

        return org_permission_required(permission)(in_org)

    return decorator


def _errors_onto(form: forms.Form, exc: ValidationError, renames: dict[str, str] | None = None) -> None:
    renames = renames or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        field = renames.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


# --- Rules -------------------------------------------------------------------------------------------


@org_page("routing.manage")
def rule_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    return render(
        request,
        "routing/rules.html",
        {
            "rules": selectors.routing_rules(org=org),
            "teams": selectors.routing_teams(org=org),
            "policy": services.sla_policy_get(org=org),
        },
    )


_RULE_RENAMES = {"industry_ids": "industries", "source_ids": "sources"}


def _rule_form_page(request: HttpRequest, rule_id: int | None) -> HttpResponse:
    org = request.organization
    rule = selectors.routing_rule_get(org=org, rule_id=rule_id) if rule_id is not None else None
    initial = RoutingRuleForm.initial_from(rule) if rule else {"is_active": True}
    form = RoutingRuleForm(request.POST or None, org=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.routing_rule_save(org=org, data=form.rule_data(), rule_id=rule_id)
        except ValidationError as exc:
            _errors_onto(form, exc, _RULE_RENAMES)
        else:
            messages.success(request, f"Rule {saved.name} saved.")
            return redirect("routing_rules", org_slug=org.slug)
    return render(request, "routing/rule_form.html", {"form": form, "rule": rule})


@org_page("routing.manage")
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, None)


@org_page("routing.manage")
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _rule_form_page(request, rule_id)


@require_POST
@org_page("routing.manage")
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    services.routing_rule_delete(org=request.organization, rule_id=rule_id)
    messages.success(request, "Rule deleted.")
    return redirect("routing_rules", org_slug=request.organization.slug)


@require_POST
@org_page("routing.manage")
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    try:
        services.routing_rule_move(
            org=request.organization, rule_id=rule_id, direction=request.POST.get("direction", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("routing_rules", org_slug=request.organization.slug)


# --- Teams -------------------------------------------------------------------------------------------


@org_page("routing.manage")
def team_create(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.routing_team_save(org=org, name=form.cleaned_data["name"])
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(request, f"Team {team.name} created; add its reps.")
            return redirect("routing_team", org_slug=org.slug, team_id=team.pk)
    return render(request, "routing/team_form.html", {"form": form, "team": None})


@org_page("routing.manage")
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    """The team's reps (capacity, absent, open leads); renaming the team; adding a rep."""
    org = request.organization
    team = selectors.routing_team_get(org=org, team_id=team_id)
    renaming, adding = "rename" in request.POST, "add_member" in request.POST
    rename_form = TeamForm(request.POST if renaming else None, initial={"name": team.name})
    add_form = TeamMemberAddForm(request.POST if adding else None, org=org)
    if renaming and rename_form.is_valid():
        try:
            services.routing_team_save(org=org, name=rename_form.cleaned_data["name"], team_id=team.pk)
        except ValidationError as exc:
            _errors_onto(rename_form, exc)
        else:
            messages.success(request, "Team renamed.")
            return redirect("routing_team", org_slug=org.slug, team_id=team.pk)
    if adding and add_form.is_valid():
        try:
            services.team_member_add(
                org=org,
                team_id=team.pk,
                user_id=add_form.cleaned_data["user"].pk,
                max_open_leads=add_form.cleaned_data["max_open_leads"],
            )
        except ValidationError as exc:
            _errors_onto(add_form, exc)
        else:
            messages.success(request, "Rep added.")
            return redirect("routing_team", org_slug=org.slug, team_id=team.pk)
    member_forms = [
        (
            row,
            TeamMemberForm(
                initial={"max_open_leads": row.member.max_open_leads, "is_absent": row.member.is_absent},
                prefix=f"m{row.member.pk}",
            ),
        )
        for row in selectors.team_members(org=org, team=team)
    ]
    return render(
        request,
        "routing/team.html",
        {"team": team, "member_forms": member_forms, "rename_form": rename_form, "add_form": add_form},
    )


@require_POST
@org_page("routing.manage")
def team_member_update(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    org = request.organization
    team = selectors.routing_team_get(org=org, team_id=team_id)
    member = selectors.team_member_get(org=org, team=team, member_id=member_id)
    form = TeamMemberForm(request.POST, prefix=f"m{member.pk}")
    if form.is_valid():
        try:
            services.team_member_update(
                org=org,
                member_id=member.pk,
                max_open_leads=form.cleaned_data["max_open_leads"],
                is_absent=form.cleaned_data["is_absent"],
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
    if form.errors:
        problems = "; ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, f"{member.user} not updated: {problems}")
    else:
        messages.success(request, f"{member.user} updated.")
    return redirect("routing_team", org_slug=org.slug, team_id=team.pk)


@require_POST
@org_page("routing.manage")
def team_member_remove(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    org = request.organization
    team = selectors.routing_team_get(org=org, team_id=team_id)
    member = selectors.team_member_get(org=org, team=team, member_id=member_id)
    services.team_member_remove(org=org, member_id=member.pk)
    messages.success(request, f"{member.user} removed from {team.name}.")
    return redirect("routing_team", org_slug=org.slug, team_id=team.pk)


@require_POST
@org_page("routing.manage")
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    org = request.organization
    try:
        services.routing_team_delete(org=org, team_id=team_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("routing_team", org_slug=org.slug, team_id=team_id)
    messages.success(request, "Team deleted.")
    return redirect("routing_rules", org_slug=org.slug)


# --- SLA ---------------------------------------------------------------------------------------------


@org_page("routing.manage")
def sla_settings(request: HttpRequest) -> HttpResponse:
    org = request.organization
    policy = services.sla_policy_get(org=org)
    form = SlaPolicyForm(request.POST or None, initial=SlaPolicyForm.initial_from(policy))
    if request.method == "POST" and form.is_valid():
        try:
            services.sla_policy_update(org=org, data=form.cleaned_data)
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            messages.success(request, "SLA policy saved. Leads that arrive from now on get the new deadline.")
            return redirect("routing_rules", org_slug=org.slug)
    return render(request, "routing/sla_settings.html", {"form": form, "time_zone": org.time_zone})


@org_page("sla.view")
def sla_queue(request: HttpRequest) -> HttpResponse:
    """Leads breaching or about to breach their first-contact deadline, and time to first
    contact per rep over the last 30 days (the metric registry's definitions)."""
    org, membership = request.organization, request.membership
    now = timezone.now()
    queue = list(selectors.sla_queue(org=org, membership=membership, now=now)[:500])
    today = timezone.localdate(now, org.tzinfo)
    table = selectors.first_contact_by_rep(
        org=org,
        membership=membership,
        date_from=today - datetime.timedelta(days=FIRST_CONTACT_DAYS - 1),
        date_to=today,
    )
    return render(
        request,
        "routing/sla_queue.html",
        {
            "queue": queue,
            "now": now,
            "policy": services.sla_policy_get(org=org),
            "table": table,
            "metrics": selectors.first_contact_metrics(),
            "days": FIRST_CONTACT_DAYS,
        },
    )


# --- Notifications ------------------------------------------------------------------------------------


@org_page("org.view")
def notification_list(request: HttpRequest) -> HttpResponse:
    """One's own notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        services.notifications_mark_read(org=request.organization, user=request.user)
        return redirect("routing_notifications", org_slug=request.organization.slug)
    notifications = list(selectors.notifications_for(org=request.organization, user=request.user)[:200])
    return render(request, "routing/notifications.html", {"notifications": notifications})
