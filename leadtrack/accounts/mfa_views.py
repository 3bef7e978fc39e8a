"""Pages of the second factor: set up an authenticator, verify a session, new recovery codes."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from leadtrack.accounts import mfa, selectors, services
from leadtrack.accounts.forms import MfaTokenForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


class LoginView(auth_views.LoginView):
    """The password step; a person who needs a second factor goes to it straight away."""

    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        target = super().get_success_url()
        user = self.request.user
        if selectors.mfa_required_somewhere(user=user) or selectors.mfa_enabled(user=user):
            return f"{reverse('mfa_verify')}?{urlencode({'next': target})}"
        return target


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Ask for a code from the authenticator (or a recovery code) once per session."""
    if not selectors.mfa_enabled(user=request.user):
        return redirect(f"{reverse('mfa_setup')}?{urlencode({'next': _next_url(request)})}")
    if mfa.session_verified(request):
        return redirect(_next_url(request))
    form = MfaTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device_id = services.mfa_verify(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            form.add_error("token", exc.message_dict["token"])
        else:
            mfa.session_mark_verified(request, device_id=device_id)
            return redirect(_next_url(request))
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: scan (or type) the secret, then prove it with one code.

    A person who already has one must verify this session first, so a stolen password alone
    cannot replace the victim's authenticator.
    """
    if selectors.mfa_enabled(user=request.user) and not mfa.session_verified(request):
        return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': request.get_full_path()})}")
    device = services.mfa_device_pending(user=request.user)
    form = MfaTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.mfa_confirm(
                user=request.user, device_id=device.pk, token=form.cleaned_data["token"]
            )
        except ValidationError as exc:
            form.add_error("token", exc.message_dict["token"])
        else:
            mfa.session_mark_verified(request, device_id=device.persistent_id)
            return render(
                request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)}
            )
    secret = base64.b32encode(device.bin_key).decode()
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title="Authenticator QR code")
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_svg": qr_svg,
            "next": _next_url(request),
        },
    )


@login_required
@require_POST
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working); only from a verified session."""
    if not (selectors.mfa_enabled(user=request.user) and mfa.session_verified(request)):
        return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': reverse('mfa_setup')})}")
    codes = services.mfa_recovery_codes_reset(user=request.user)
    return render(request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": reverse("home")})
