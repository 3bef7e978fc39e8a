"""Reads about people and their second factor."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from leadtrack.accounts import mfa
from leadtrack.accounts.models import User
from leadtrack.tenancy.selectors import memberships_for_user


def mfa_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_required_somewhere(*, user: User) -> bool:
    """True when the person holds, in any organization, a role that needs a second factor."""
    return any(mfa.mfa_required(membership.role) for membership in memberships_for_user(user=user))
