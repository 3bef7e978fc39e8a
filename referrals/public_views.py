"""Public referral links: ``/r/<code>``, outside any organization's pages.

No organization is active for a public URL and row-level security hides every tenant
row, so the organization comes from the code's prefix (``<org id>-<random>``) and the
rest runs inside ``tenant_context(org)``; a wrong prefix finds no link, like any bad code.
The answer never reveals whether the company or person is already known: a new lead,
a conflict, a repeat and a honeypot hit all end on the same thank-you page.
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from leads.models import Via
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from referrals import services
from referrals.forms import PublicReferralForm
from referrals.models import PartnerStatus, ReferralLink, ReferrerKind
from referrals.views import form_errors_from

# Submissions (limit, window in seconds): per client IP, and per link against floods.
PER_IP_LIMIT = (10, 3600)
PER_LINK_LIMIT = (50, 86400)


def _within_limit(key: str, limit: int, window: int) -> bool:
    """Fixed-window counter in Redis (atomic INCR), shared by every web worker."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        count = 1
    return count <= limit


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "")


def _organization_of(code: str) -> Organization:
    organization_id = services.organization_id_of_link(code)
    organization = Organization.objects.filter(pk=organization_id).first() if organization_id else None
    if organization is None:
        raise Http404("Unknown link")
    return organization


def _active_link(*, org: Organization, code: str) -> ReferralLink:
    """Call inside the organization. Unknown, inactive and suspended-partner links look alike."""
    link = (
        ReferralLink.objects.select_related("partner", "customer", "program")
        .filter(organization=org, code=code, active=True, program__active=True)
        .first()
    )
    if link is None or (link.partner_id and link.partner.status != PartnerStatus.ACTIVE):
        raise Http404("Unknown link")
    return link


@never_cache
def referral_form(request: HttpRequest, code: str) -> HttpResponse:
    org = _organization_of(code)
    with tenant_context(org):
        link = _active_link(org=org, code=code)
        referrer_name = str(link.partner or "one of our customers")
        form = PublicReferralForm(request.POST or None)
        context = {"form": form, "org_name": org.name, "referrer_name": referrer_name, "code": code}
        if request.method != "POST":
            return render(request, "referrals/public_form.html", context)
        allowed = _within_limit(
            f"referrals:public:ip:{_client_ip(request)}", *PER_IP_LIMIT
        ) and _within_limit(f"referrals:public:link:{code}", *PER_LINK_LIMIT)
        if not allowed:
            return render(request, "referrals/public_limited.html", {"org_name": org.name}, status=429)
        if form.is_bot():
            return redirect("referral_public_thanks", code=code)
        if form.is_valid():
            referrer = (
                services.Referrer(kind=ReferrerKind.PARTNER, partner=link.partner)
                if link.partner_id
                else services.Referrer(kind=ReferrerKind.CUSTOMER, customer=link.customer)
            )
            try:
                services.referral_submit(
                    org=org,
                    program_id=link.program_id,
                    referrer=referrer,
                    data=form.service_data(),
                    submitted_by=None,
                    via=Via.FORM,
                )
            except ValidationError as exc:
                form_errors_from(exc, form)
            else:
                return redirect("referral_public_thanks", code=code)
        return render(request, "referrals/public_form.html", context, status=400)


def referral_thanks(request: HttpRequest, code: str) -> HttpResponse:
    org = _organization_of(code)
    with tenant_context(org):
        _active_link(org=org, code=code)
    return render(request, "referrals/public_thanks.html", {"org_name": org.name})
