"""The partner portal: ``/o/<slug>/portal/``, for members with the partner role only.

A partner sees their own partner's referrals and rewards through the allowlisted
selectors; any other id (another partner's, another organization's, a lead's) is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from leads.models import Via
from leadtrack.tenancy.permissions import org_permission_required
from referrals import selectors, services
from referrals.forms import ReferralForm
from referrals.models import Partner, Referral, ReferralStatus, ReferrerKind, RewardLedgerEntry
from referrals.views import form_errors_from


def _partner_or_404(request: HttpRequest) -> Partner:
    partner = selectors.portal_partner_for(org=request.organization, user=request.user)
    if partner is None:
        raise Http404("Not linked to a partner")
    return partner


@org_permission_required("portal.use")
def home(request: HttpRequest) -> HttpResponse:
    org = request.organization
    partner = selectors.portal_partner_for(org=org, user=request.user)
    if partner is None:
        return render(request, "portal/not_linked.html")
    return render(
        request,
        "portal/home.html",
        {
            "partner": partner,
            "referrals": selectors.portal_referral_list(org=org, partner=partner),
            "totals": selectors.reward_totals(org=org, partner=partner),
            "links": selectors.links_of(org=org, partner=partner).filter(active=True),
        },
    )


@org_permission_required("portal.use")
def referrals_json(request: HttpRequest) -> JsonResponse:
    """The same rows as the portal's list, as JSON (allowlisted keys only)."""
    org = request.organization
    partner = selectors.portal_partner_for(org=org, user=request.user)
    rows = selectors.portal_referral_list(org=org, partner=partner) if partner else []
    return JsonResponse({"referrals": rows})


@org_permission_required("portal.use")
def referral_new(request: HttpRequest) -> HttpResponse:
    org = request.organization
    partner = selectors.portal_partner_for(org=org, user=request.user)
    if partner is None:
        return render(request, "portal/not_linked.html")
    programs = list(selectors.portal_programs(org=org, partner=partner))
    form = ReferralForm(request.POST or None, programs=programs)
    if request.method == "POST" and form.is_valid():
        try:
            submission = services.referral_submit(
                org=org,
                program_id=form.cleaned_data["program"],
                referrer=services.Referrer(kind=ReferrerKind.PARTNER, partner=partner),
                data=form.service_data(),
                submitted_by=request.user,
                via=Via.PORTAL,
            )
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            referral = submission.referral
            if not submission.created:
                messages.info(request, "You referred this person already: here is that referral.")
            elif referral.status == ReferralStatus.UNDER_REVIEW:
                messages.info(request, "Thank you. Your referral is under review; we will let you know.")
            else:
                messages.success(request, "Thank you. Your referral is registered.")
            return redirect("portal_referral", org_slug=org.slug, referral_id=referral.pk)
    return render(
        request, "portal/referral_new.html", {"form": form, "partner": partner, "programs": programs}
    )


@org_permission_required("portal.use")
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    org = request.organization
    partner = _partner_or_404(request)
    try:
        referral = selectors.portal_referral_get(org=org, partner=partner, referral_id=referral_id)
    except Referral.DoesNotExist as exc:
        raise Http404("Not found") from exc
    return render(request, "portal/referral_detail.html", {"partner": partner, "referral": referral})


@org_permission_required("portal.use")
def rewards(request: HttpRequest) -> HttpResponse:
    org = request.organization
    partner = selectors.portal_partner_for(org=org, user=request.user)
    if partner is None:
        return render(request, "portal/not_linked.html")
    return render(
        request,
        "portal/rewards.html",
        {
            "partner": partner,
            "rewards": selectors.portal_reward_list(org=org, partner=partner),
            "totals": selectors.reward_totals(org=org, partner=partner),
        },
    )


@org_permission_required("portal.use")
def reward_detail(request: HttpRequest, reward_id: int) -> HttpResponse:
    org = request.organization
    partner = _partner_or_404(request)
    try:
        reward = selectors.portal_reward_get(org=org, partner=partner, reward_id=reward_id)
    except RewardLedgerEntry.DoesNotExist as exc:
        raise Http404("Not found") from exc
    return render(request, "portal/reward_detail.html", {"partner": partner, "reward": reward})
