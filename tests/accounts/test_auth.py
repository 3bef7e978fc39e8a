from __future__ import annotations

import re

from django.core import mail

from tests.factories import TEST_PASSWORD


def _login(client, email, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_it_logs_in_with_email_and_password_and_rotates_the_session(client, alice):
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    response = _login(client, "ALICE@acme.example", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != (before.value if before else None)
    assert client.get("/").status_code == 302  # one organization → straight in


def test_a_wrong_password_is_a_form_error(client, alice):
    response = _login(client, alice.email, "wrong")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_repeated_failures_lock_that_user_from_that_address_only(client, alice, settings):
    """A4: lockout per (user, IP); the right password from another address still works."""
    attempts = 0
    while attempts < 30:
        attempts += 1
        if _login(client, alice.email, "wrong", ip="10.0.0.66").status_code == 429:
            break
    print(f"\n[A4] attempts until lockout={attempts}")
    assert attempts == settings.AXES_FAILURE_LIMIT
    assert _login(client, alice.email, TEST_PASSWORD, ip="10.0.0.66").status_code == 429
    assert _login(client, alice.email, TEST_PASSWORD, ip="10.0.0.77").status_code == 302


def test_logout_ends_the_session(client, alice):
    _login(client, alice.email, TEST_PASSWORD)
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_password_change_signs_out_other_sessions(client, alice, django_user_model):
    from django.test import Client

    other = Client()
    _login(other, alice.email, TEST_PASSWORD)
    _login(client, alice.email, TEST_PASSWORD)
    client.post(
        "/accounts/password_change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert client.get("/").status_code == 302 and client.get("/").url != "/accounts/login/?next=/"
    assert other.get("/").url.startswith("/accounts/login/")


def test_password_reset_sends_a_single_use_link(client, alice):
    client.post("/accounts/password_reset/", {"email": alice.email})
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0).split("testserver", 1)[1]
    response = client.get(link, follow=True)
    set_url = response.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "reset-long-passphrase", "new_password2": "reset-long-passphrase"})
    alice.refresh_from_db()
    assert alice.check_password("reset-long-passphrase")
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_does_not_reveal_unknown_addresses(client, db):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
