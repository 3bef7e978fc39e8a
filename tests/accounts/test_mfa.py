"""A7: admins and managers pass a second factor; a code works once; recovery codes are single-use."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD


def _password_step(client, user):
    return client.post("/accounts/login/", {"username": user.email, "password": TEST_PASSWORD})


def _code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + step_offset * device.step
    return f"{totp.token():06d}"


def _set_up_authenticator(client, user) -> list[str]:
    """The setup page as a person uses it: read the key, type the app's code; returns recovery codes."""
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown_key = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    import base64

    assert base64.b32decode(shown_key.replace(" ", "")) == device.bin_key
    done = client.post("/accounts/mfa/setup/", {"token": _code(device)})
    assert done.status_code == 200
    return done.context["codes"]


@pytest.mark.parametrize("who", ["alice", "mike"])
def test_an_admin_or_manager_with_only_a_password_cannot_open_the_organization(client, who, request, org):
    user = request.getfixturevalue(who)
    response = _password_step(client, user)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/")
    page = client.get(f"/o/{org.slug}/leads/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/mfa/?next=")
    api = client.get("/api/v1/leads/", HTTP_X_ORGANIZATION=org.slug)
    assert api.status_code == 403
    assert "verification" in api.json()["detail"].lower()
    print(f"A7: {who}: organization page → {page.status_code} to the second factor, session API → 403")


def test_a_sales_rep_signs_in_with_a_password_alone(client, bob, org):
    response = _password_step(client, bob)
    assert response.status_code == 302 and "/accounts/mfa/" not in response["Location"]
    assert client.get(f"/o/{org.slug}/leads/").status_code == 200


def test_setting_up_an_authenticator_opens_the_organization_and_gives_ten_recovery_codes(client, alice, org):
    _password_step(client, alice)
    assert client.get("/accounts/mfa/")["Location"].startswith("/accounts/mfa/setup/")
    wrong = client.post("/accounts/mfa/setup/", {"token": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["token"]
    codes = _set_up_authenticator(client, alice)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(f"/o/{org.slug}/leads/").status_code == 200


def test_a_code_passes_once_a_replay_in_another_session_is_refused(client, alice, org, django_user_model):
    from django.test import Client

    _password_step(client, alice)
    _set_up_authenticator(client, alice)
    device = TOTPDevice.objects.get(user=alice, confirmed=True)
    code = _code(device, step_offset=1)  # the next step: not used by the setup above

    first, second = Client(), Client()
    _password_step(first, alice)
    _password_step(second, alice)
    assert first.post("/accounts/mfa/", {"token": code, "next": f"/o/{org.slug}/"}).status_code == 302
    replay = second.post("/accounts/mfa/", {"token": code, "next": f"/o/{org.slug}/"})
    assert replay.status_code == 200 and replay.context["form"].errors["token"]
    assert second.get(f"/o/{org.slug}/leads/").status_code == 302
    assert first.get(f"/o/{org.slug}/leads/").status_code == 200
    print("A7: the same TOTP code in a second session: refused")


def test_a_recovery_code_works_once(client, alice, org):
    from django.test import Client

    _password_step(client, alice)
    codes = _set_up_authenticator(client, alice)
    used = Client()
    _password_step(used, alice)
    assert used.post("/accounts/mfa/", {"token": codes[0]}).status_code == 302
    assert used.get(f"/o/{org.slug}/leads/").status_code == 200
    again = Client()
    _password_step(again, alice)
    refused = again.post("/accounts/mfa/", {"token": codes[0]})
    assert refused.status_code == 200 and refused.context["form"].errors["token"]
    assert StaticToken.objects.filter(device__user=alice).count() == 9
    print("A7: recovery code reused: refused; 9 of 10 left")


def test_signing_in_again_asks_for_the_second_factor_again(client, alice, org):
    _password_step(client, alice)
    _set_up_authenticator(client, alice)
    assert client.get(f"/o/{org.slug}/").status_code == 200
    client.post("/accounts/logout/")
    _password_step(client, alice)
    assert client.get(f"/o/{org.slug}/")["Location"].startswith("/accounts/mfa/")


def test_a_stolen_password_cannot_replace_the_authenticator(client, alice):
    _password_step(client, alice)
    _set_up_authenticator(client, alice)
    client.post("/accounts/logout/")
    _password_step(client, alice)
    response = client.get("/accounts/mfa/setup/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?next=")
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_the_next_parameter_cannot_leave_the_site(client, bob):
    _password_step(client, bob)
    # bob has no authenticator: the verify page sends him to set one up, keeping only a local next.
    response = client.get("/accounts/mfa/?next=https://evil.example/")
    assert "evil.example" not in response["Location"]
