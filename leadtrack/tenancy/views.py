from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leadtrack.tenancy import selectors, services
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.forms import InvitationForm, MembershipRoleForm, OrganizationForm
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.permissions import org_permission_required
from leadtrack.tenancy.roles import Role


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The organization switcher; a person with one organization goes straight in."""
    memberships = selectors.memberships_for_user(user=request.user)
    if len(memberships) == 1:
        return redirect(_landing_page(memberships[0]), org_slug=memberships[0].organization.slug)
    return render(request, "tenancy/home.html", {"memberships": memberships})


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(admin=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"{organization.name} is ready. Invite your team.")
            return redirect("org_members", org_slug=organization.slug)
    return render(request, "tenancy/organization_create.html", {"form": form})


def _landing_page(membership: Membership) -> str:
    """Partners live in the portal; everyone else starts on the organization's overview."""
    return "portal_home" if membership.role == Role.PARTNER else "org_home"


def org_home(request: HttpRequest, org_slug: str) -> HttpResponse:
    if getattr(request, "membership", None) is not None and request.membership.role == Role.PARTNER:
        return redirect("portal_home", org_slug=org_slug)
    return _org_overview(request, org_slug=org_slug)


@org_permission_required("org.view")
def _org_overview(request: HttpRequest) -> HttpResponse:
    members = selectors.organization_members(org=request.organization)
    return render(request, "tenancy/org_home.html", {"member_count": members.count()})


@org_permission_required("org.manage_members")
def members(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(org=org, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("org_members", org_slug=org.slug)
    return render(
        request,
        "tenancy/members.html",
        {
            "form": form,
            "members": selectors.organization_members(org=org),
            "invitations": selectors.pending_invitations(org=org),
            "role_choices": MembershipRoleForm.base_fields["role"].choices,
        },
    )


@require_POST
@org_permission_required("org.manage_members")
def member_change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.organization
    form = MembershipRoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a valid role.")
        services.membership_change_role(org=org, membership_id=membership_id, role=form.cleaned_data["role"])
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Role changed.")
    return redirect("org_members", org_slug=org.slug)


@require_POST
@org_permission_required("org.manage_members")
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.organization
    try:
        services.membership_remove(org=org, membership_id=membership_id)
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Member removed.")
    return redirect("org_members", org_slug=org.slug)


@require_POST
@org_permission_required("org.manage_members")
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    services.invitation_revoke(org=request.organization, invitation_id=invitation_id)
    messages.success(request, "Invitation revoked.")
    return redirect("org_members", org_slug=request.organization.slug)


def invitation_accept(request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
    """The link from the invitation e-mail. Unknown, used and expired links look alike."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise Http404
    with tenant_context(organization):
        invitation = services.invitation_get_valid(org=organization, token=token)
        if invitation is None:
            return render(request, "tenancy/invitation_invalid.html", status=404)
        if not request.user.is_authenticated:
            request.session["pending_invitation"] = request.path
            return render(request, "tenancy/invitation_landing.html", {"invitation": invitation})
        if request.method == "POST":
            try:
                services.invitation_accept(org=organization, token=token, user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                request.session.pop("pending_invitation", None)
                messages.success(request, f"Welcome to {organization.name}.")
                return redirect("org_home", org_slug=organization.slug)
        return render(
            request,
            "tenancy/invitation_accept.html",
            {"invitation": invitation, "role_label": Role(invitation.role).label},
        )
