from __future__ import annotations

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from leadtrack.accounts import services
from leadtrack.accounts.forms import SignupForm


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account; then accept a pending invitation or create an organization."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            pending = request.session.get("pending_invitation")
            if pending and url_has_allowed_host_and_scheme(pending, allowed_hosts={request.get_host()}):
                return redirect(pending)
            return redirect("organization_create")
    return render(request, "registration/signup.html", {"form": form})
