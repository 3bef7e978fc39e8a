"""Who must pass a second factor, and whether this session has (A7 of the reliability matrix).

The rule lives here and nowhere else: the tenant middleware (pages), the API's session
authentication and the login redirect all ask ``mfa_required`` and ``session_verified``.
API keys are machine credentials and are not affected.

TOTP devices and single-use recovery codes are django-otp's models; the session remembers the
device that verified it, so a verified request costs no query.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "mfa_device"


def mfa_required(role: str | None) -> bool:
    """True when a member with ``role`` must have passed a second factor."""
    return role is not None and role in settings.MFA_REQUIRED_ROLES


def session_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_KEY))


def session_mark_verified(request: HttpRequest, *, device_id: str) -> None:
    # A new key, as at login: a session id seen before the second factor is worth nothing after it.
    request.session.cycle_key()
    request.session[SESSION_KEY] = device_id


def session_forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
