"""The program's internal pages: partner manager (``partners.manage``) and employee referrals.

Thin: parse the form, call a service or selector, render. Another organization's id is
never found (scoped queries) and answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leads.models import Lead, Via
from leadtrack.tenancy.permissions import org_permission_required
from referrals import selectors, services
from referrals.forms import (
    LinkForm,
    PaidForm,
    PartnerForm,
    PartnerUserForm,
    PeriodForm,
    ProgramForm,
    ReferralForm,
    RejectForm,
    RewardRuleForm,
    TierForm,
)
from referrals.models import (
    Partner,
    PartnerTier,
    Program,
    ProgramKind,
    Referral,
    ReferralStatus,
    ReferrerKind,
    RewardLedgerEntry,
    RewardStatus,
    TierChange,
)

NOT_FOUND = (
    Partner.DoesNotExist,
    PartnerTier.DoesNotExist,
    Program.DoesNotExist,
    Referral.DoesNotExist,
    RewardLedgerEntry.DoesNotExist,
    Lead.DoesNotExist,
)


def not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A missing or foreign object (DoesNotExist from a scoped read or service) is a 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NOT_FOUND as exc:
            raise Http404("Not found") from exc

    return wrapped


def form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _period(request: HttpRequest) -> tuple[selectors.Period, PeriodForm]:
    org = request.organization
    today = timezone.localdate(timezone=org.tzinfo)
    period = selectors.default_period(today=today)
    form = PeriodForm(request.GET or None, initial={"start": period.start, "end": period.end})
    if form.is_bound and form.is_valid():
        period = selectors.Period(
            start=form.cleaned_data["start"] or period.start, end=form.cleaned_data["end"] or period.end
        )
    return period, form


# --- overview, metrics, leaderboard -------------------------------------------------------


@org_permission_required("partners.manage")
def overview(request: HttpRequest) -> HttpResponse:
    org = request.organization
    period, period_form = _period(request)
    return render(
        request,
        "referrals/overview.html",
        {
            "period": period,
            "period_form": period_form,
            "metrics": selectors.referral_metrics(org=org, period=period),
            "leaderboard": selectors.leaderboard(org=org, period=period),
            "cost": selectors.partner_channel_cac(org=org, period=period),
            "programs": selectors.program_performance(org=org, period=period),
            "queue_count": selectors.review_queue(org=org).count(),
        },
    )


@org_permission_required("partners.manage")
def review(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "referrals/review.html",
        {"queue": selectors.review_queue(org=request.organization), "reject_form": RejectForm()},
    )


@org_permission_required("partners.manage")
def referral_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    return render(
        request,
        "referrals/referral_list.html",
        {
            "referrals": selectors.referral_list(org=request.organization, status=status)[:500],
            "status": status,
            "statuses": ReferralStatus.choices,
        },
    )


@org_permission_required("partners.manage")
@not_found_as_404
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = selectors.referral_get(org=request.organization, referral_id=referral_id)
    return render(
        request,
        "referrals/referral_detail.html",
        {"referral": referral, "events": referral.events.all(), "reject_form": RejectForm()},
    )


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def referral_approve(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        referral = services.referral_approve(
            org=request.organization, actor=request.user, referral_id=referral_id
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Referral of {referral.company} accepted.")
    return redirect("referrals_review", org_slug=request.organization.slug)


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def referral_reject(request: HttpRequest, referral_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Say why: the partner sees this reason (at most 500 characters).")
        referral = services.referral_reject(
            org=request.organization,
            actor=request.user,
            referral_id=referral_id,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Referral of {referral.company} rejected.")
    return redirect("referrals_review", org_slug=request.organization.slug)


# --- partners --------------------------------------------------------------------------------


@org_permission_required("partners.manage")
def partner_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = PartnerForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_save(org=org, actor=request.user, partner=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, f"Partner {partner.name} added.")
            return redirect("referrals_partner", org_slug=org.slug, partner_id=partner.pk)
    period, period_form = _period(request)
    return render(
        request,
        "referrals/partner_list.html",
        {
            "form": form,
            "period": period,
            "period_form": period_form,
            "partners": selectors.partner_performance(org=org, period=period),
            "cost": selectors.partner_channel_cac(org=org, period=period),
        },
    )


@org_permission_required("partners.manage")
@not_found_as_404
def partner_detail(request: HttpRequest, partner_id: int) -> HttpResponse:
    org = request.organization
    partner = selectors.partner_get(org=org, partner_id=partner_id)
    form = PartnerForm(request.POST or None, instance=partner, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_save(org=org, actor=request.user, partner=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "Partner saved.")
            return redirect("referrals_partner", org_slug=org.slug, partner_id=partner.pk)
    programs = Program.objects.filter(organization=org, kind=ProgramKind.PARTNER, active=True)
    return render(
        request,
        "referrals/partner_detail.html",
        {
            "partner": partner,
            "form": form,
            "users": partner.users.select_related("user"),
            "user_form": PartnerUserForm(members=selectors.unlinked_partner_members(org=org)),
            "links": selectors.links_of(org=org, partner=partner),
            "link_form": LinkForm(programs=programs),
            "tier_changes": TierChange.objects.filter(organization=org, partner=partner).select_related(
                "from_tier", "to_tier", "changed_by"
            )[:50],
            "referrals": selectors.referral_list(org=org).filter(partner=partner)[:100],
        },
    )


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def partner_user_add(request: HttpRequest, partner_id: int) -> HttpResponse:
    org = request.organization
    partner = selectors.partner_get(org=org, partner_id=partner_id)
    form = PartnerUserForm(request.POST, members=selectors.unlinked_partner_members(org=org))
    try:
        if not form.is_valid():
            raise ValidationError("Choose a member with the Partner role.")
        services.partner_user_link(org=org, partner_id=partner.pk, user_id=form.cleaned_data["user"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The person can now use the partner portal.")
    return redirect("referrals_partner", org_slug=org.slug, partner_id=partner.pk)


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def partner_link_add(request: HttpRequest, partner_id: int) -> HttpResponse:
    org = request.organization
    partner = selectors.partner_get(org=org, partner_id=partner_id)
    form = LinkForm(request.POST, programs=Program.objects.filter(organization=org, kind=ProgramKind.PARTNER))
    try:
        if not form.is_valid():
            raise ValidationError("Choose a partner program.")
        services.referral_link_create(org=org, program_id=form.cleaned_data["program"], partner_id=partner.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Referral link created.")
    return redirect("referrals_partner", org_slug=org.slug, partner_id=partner.pk)


@org_permission_required("partners.manage")
def links(request: HttpRequest) -> HttpResponse:
    """Every public link; customer advocates get theirs here (a won lead, by e-mail)."""
    org = request.organization
    programs = Program.objects.filter(organization=org, kind=ProgramKind.CUSTOMER)
    form = LinkForm(request.POST or None, programs=programs, customer=True)
    if request.method == "POST" and form.is_valid():
        customer = (
            Lead.objects.filter(organization=org, deleted_at__isnull=True, stage="won")
            .filter(email__iexact=form.cleaned_data["customer_email"])
            .first()
        )
        if customer is None:
            form.add_error("customer_email", "No won customer has this e-mail.")
        else:
            try:
                services.referral_link_create(
                    org=org, program_id=form.cleaned_data["program"], customer_lead_id=customer.pk
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                messages.success(request, f"Referral link created for {customer}.")
                return redirect("referrals_links", org_slug=org.slug)
    return render(request, "referrals/links.html", {"links": selectors.links_of(org=org), "form": form})


# --- tiers and programs ----------------------------------------------------------------------


@org_permission_required("partners.manage")
def tier_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = TierForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_save(org=org, tier=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "Tier added.")
            return redirect("referrals_tiers", org_slug=org.slug)
    tiers = PartnerTier.objects.filter(organization=org).order_by("rank")
    return render(request, "referrals/tier_list.html", {"tiers": tiers, "form": form})


@org_permission_required("partners.manage")
@not_found_as_404
def tier_edit(request: HttpRequest, tier_id: int) -> HttpResponse:
    org = request.organization
    tier = PartnerTier.objects.get(organization=org, pk=tier_id)
    form = TierForm(request.POST or None, instance=tier, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_save(org=org, tier=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "Tier saved.")
            return redirect("referrals_tiers", org_slug=org.slug)
    return render(request, "referrals/tier_edit.html", {"tier": tier, "form": form})


@org_permission_required("partners.manage")
def program_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = ProgramForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_save(org=org, program=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, f"Program {program.name} created.")
            return redirect("referrals_program", org_slug=org.slug, program_id=program.pk)
    period, _ = _period(request)
    return render(
        request,
        "referrals/program_list.html",
        {"programs": selectors.program_performance(org=org, period=period), "period": period, "form": form},
    )


@org_permission_required("partners.manage")
@not_found_as_404
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    org = request.organization
    program = Program.objects.select_related("campaign").get(organization=org, pk=program_id)
    form = ProgramForm(request.POST or None, instance=program, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_save(org=org, program=form.instance)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, "Program saved.")
            return redirect("referrals_program", org_slug=org.slug, program_id=program.pk)
    return render(
        request,
        "referrals/program_edit.html",
        {
            "program": program,
            "form": form,
            "rules": program.reward_rules.select_related("tier").order_by("tier__rank", "region"),
            "rule_form": RewardRuleForm(org=org),
        },
    )


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def program_rule_add(request: HttpRequest, program_id: int) -> HttpResponse:
    org = request.organization
    program = Program.objects.get(organization=org, pk=program_id)
    form = RewardRuleForm(request.POST, org=org)
    try:
        if not form.is_valid():
            raise ValidationError([f"{field}: {' '.join(errs)}" for field, errs in form.errors.items()])
        form.instance.program = program
        services.reward_rule_save(org=org, rule=form.instance)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Reward rule added.")
    return redirect("referrals_program", org_slug=org.slug, program_id=program.pk)


# --- rewards ---------------------------------------------------------------------------------


@org_permission_required("partners.manage")
def reward_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    status = request.GET.get("status", "")
    return render(
        request,
        "referrals/reward_list.html",
        {
            "rewards": selectors.reward_list(org=org, status=status)[:500],
            "totals": selectors.reward_totals(org=org),
            "status": status,
            "statuses": RewardStatus.choices,
            "paid_form": PaidForm(),
        },
    )


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def reward_approve(request: HttpRequest, reward_id: int) -> HttpResponse:
    try:
        services.reward_approve(org=request.organization, actor=request.user, reward_id=reward_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Reward approved.")
    return redirect("referrals_rewards", org_slug=request.organization.slug)


@require_POST
@org_permission_required("partners.manage")
@not_found_as_404
def reward_pay(request: HttpRequest, reward_id: int) -> HttpResponse:
    form = PaidForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("The payment reference has at most 100 characters.")
        services.reward_mark_paid(
            org=request.organization,
            actor=request.user,
            reward_id=reward_id,
            reference=form.cleaned_data["reference"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Reward marked paid.")
    return redirect("referrals_rewards", org_slug=request.organization.slug)


# --- employee referrals ----------------------------------------------------------------------


@org_permission_required("referrals.submit")
def employee_referral(request: HttpRequest) -> HttpResponse:
    """Any member refers someone they know; the lead is filed under the employee channel."""
    org = request.organization
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_for_employees(org=org)
            submission = services.referral_submit(
                org=org,
                program_id=program.pk,
                referrer=services.Referrer(kind=ReferrerKind.EMPLOYEE, employee=request.user),
                data=form.service_data(),
                submitted_by=request.user,
                via=Via.UI,
            )
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            referral = submission.referral
            if not submission.created:
                messages.info(
                    request, f"You referred {referral.contact_name} already; nothing new was created."
                )
            elif referral.status == ReferralStatus.UNDER_REVIEW:
                messages.info(
                    request, f"Thank you. {referral.company} is known already: the team will review it."
                )
            else:
                messages.success(request, f"Thank you for referring {referral.company}.")
            return redirect("referrals_employee", org_slug=org.slug)
    return render(request, "referrals/employee_referral.html", {"form": form})
