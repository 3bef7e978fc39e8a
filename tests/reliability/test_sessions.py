"""A5 session lifecycle and A6 idle/absolute timeouts (ASVS 7.2.4, 7.3.1, 7.3.2, 7.4.1-7.4.3)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from leadtrack.accounts.session_timeouts import LAST_SEEN_AT, SIGNED_IN_AT
from tests.factories import TEST_PASSWORD, verify_second_factor


def _sign_in(client: Client, user, password: str = TEST_PASSWORD) -> str:
    response = client.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302, "sign-in failed"
    verify_second_factor(client, user)  # an admin's session opens the organization after both steps
    return client.cookies["sessionid"].value


def _replay(session_key: str, path: str) -> int:
    """A request carrying a stolen or old session cookie."""
    thief = Client()
    thief.cookies["sessionid"] = session_key
    return thief.get(path).status_code


def _is_signed_in(client: Client, org) -> bool:
    return client.get(f"/o/{org.slug}/").status_code == 200


class TestLifecycle:
    def test_the_session_key_changes_at_sign_in(self, client, alice):
        session = client.session
        session["before_login"] = True
        session.save()
        anonymous_key = session.session_key
        client.cookies["sessionid"] = anonymous_key
        signed_in_key = _sign_in(client, alice)
        assert signed_in_key != anonymous_key
        assert not Session.objects.filter(session_key=anonymous_key).exists()

    def test_logout_deletes_the_server_side_session(self, client, alice, org):
        key = _sign_in(client, alice)
        assert _replay(key, f"/o/{org.slug}/") == 200
        client.post("/accounts/logout/")
        assert not Session.objects.filter(session_key=key).exists()
        assert _replay(key, f"/o/{org.slug}/") == 302

    def test_a_password_change_ends_the_other_sessions(self, client, alice, org):
        laptop, phone = Client(), Client()
        laptop_key = _sign_in(laptop, alice)
        _sign_in(phone, alice)
        new = "a brand new long passphrase"
        response = phone.post(
            "/accounts/password_change/",
            {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
        )
        assert response.status_code == 302
        assert _is_signed_in(phone, org), "the session that changed the password stays signed in"
        assert not _is_signed_in(laptop, org)
        assert _replay(laptop_key, f"/o/{org.slug}/") == 302

    def test_a_deactivated_person_is_refused_on_the_next_request(self, client, alice, org):
        _sign_in(client, alice)
        assert _is_signed_in(client, org)
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        response = client.get(f"/o/{org.slug}/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        print(
            "\n[A5] rotate_on_login=ok logout_kills_session=ok password_change_ends_others=ok "
            "deactivated=refused"
        )


class TestTimeouts:
    def _age(self, client: Client, *, signed_in_ago: int, last_seen_ago: int) -> None:
        session = client.session
        now = int(time.time())
        session[SIGNED_IN_AT] = now - signed_in_ago
        session[LAST_SEEN_AT] = now - last_seen_ago
        session.save()

    def test_the_limits(self):
        print(
            f"\n[A6] idle_min={settings.SESSION_IDLE_TIMEOUT // 60} "
            f"absolute_min={settings.SESSION_COOKIE_AGE // 60}"
        )
        assert settings.SESSION_COOKIE_AGE == 8 * 3600
        assert 0 < settings.SESSION_IDLE_TIMEOUT < settings.SESSION_COOKIE_AGE

    def test_the_cookie_lives_as_long_as_the_absolute_limit(self, client, alice):
        response = client.post("/accounts/login/", {"username": alice.email, "password": TEST_PASSWORD})
        assert int(response.cookies["sessionid"]["max-age"]) == settings.SESSION_COOKIE_AGE

    def test_idle_timeout(self, client, alice, org):
        key = _sign_in(client, alice)
        idle = settings.SESSION_IDLE_TIMEOUT
        self._age(client, signed_in_ago=idle + 120, last_seen_ago=idle - 60)
        assert _is_signed_in(client, org), "a minute before the idle limit: still signed in"
        self._age(client, signed_in_ago=idle + 120, last_seen_ago=idle + 1)
        assert not _is_signed_in(client, org)
        assert not Session.objects.filter(session_key=key).exists()

    def test_activity_keeps_an_idle_session_alive(self, client, alice, org):
        _sign_in(client, alice)
        idle = settings.SESSION_IDLE_TIMEOUT
        self._age(client, signed_in_ago=2 * idle, last_seen_ago=idle - 60)
        assert _is_signed_in(client, org)
        assert time.time() - client.session[LAST_SEEN_AT] < 60, "the request counted as activity"

    def test_absolute_timeout_whatever_the_activity(self, client, alice, org):
        _sign_in(client, alice)
        age = settings.SESSION_COOKIE_AGE
        self._age(client, signed_in_ago=age - 60, last_seen_ago=0)
        assert _is_signed_in(client, org)
        self._age(client, signed_in_ago=age + 1, last_seen_ago=0)
        assert not _is_signed_in(client, org)
