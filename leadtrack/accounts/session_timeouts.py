"""Idle and absolute session timeouts (ASVS 7.3.1 / 7.3.2).

Django's own expiry slides: the database row's expiry moves forward each time
the session is saved. So the session records when the person signed in and
when they were last seen, and a request past either limit signs them out:

- absolute: ``SESSION_COOKIE_AGE`` after sign-in (8 hours), whatever the activity;
- idle: ``SESSION_IDLE_TIMEOUT`` without a request.

"Last seen" is written at most once a minute, so browsing does not turn every
request into a session write.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "_auth_signed_in_at"
LAST_SEEN_AT = "_auth_last_seen_at"
LAST_SEEN_RESOLUTION = 60  # seconds


def _start_clock(sender, request: HttpRequest, user, **kwargs) -> None:
    # Signing in again restarts the absolute limit (login() keeps a same-user session's data).
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


user_logged_in.connect(_start_clock, dispatch_uid="leadtrack_session_clock")


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Without a session cookie nobody is signed in by a session: API calls, tracking events
        # and form posts then skip building the anonymous user.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in = session.setdefault(SIGNED_IN_AT, now)
            last_seen = session.get(LAST_SEEN_AT, now)
            if (
                now - signed_in > settings.SESSION_COOKIE_AGE
                or now - last_seen > settings.SESSION_IDLE_TIMEOUT
            ):
                logout(request)  # flushes the server-side session; the request goes on anonymous
            elif now - last_seen >= LAST_SEEN_RESOLUTION or LAST_SEEN_AT not in session:
                session[LAST_SEEN_AT] = now
        return self.get_response(request)
