from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from leadtrack.accounts.models import User

RECOVERY_CODE_COUNT = 10


@transaction.atomic
def user_create(*, email: str, password: str | None, full_name: str = "") -> User:
    """Create a person. Raises ValidationError on a taken e-mail or a weak password."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this e-mail already exists."})
    user = User(email=email, full_name=full_name)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    user.save()
    return user


# --- Second factor (TOTP and recovery codes) ------------------------------------------------------------


@transaction.atomic
def mfa_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator device being set up: unconfirmed until the person proves they copied it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def mfa_confirm(*, user: User, device_id: int, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm a pending authenticator with a code from it; return the device and new recovery codes.

    Raises ValidationError when the code is wrong. Earlier authenticators and recovery codes are
    replaced: one device per person keeps "which phone is it on?" answerable.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, pk=device_id, confirmed=False).first()
    if device is None or not device.verify_token(_digits(token)):
        raise ValidationError({"token": "That code is not right. Type the 6 digits your app shows now."})
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, mfa_recovery_codes_reset(user=user)


@transaction.atomic
def mfa_recovery_codes_reset(*, user: User) -> list[str]:
    """Replace the person's recovery codes; each works once. The codes are shown once, here."""
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def mfa_verify(*, user: User, token: str) -> str:
    """Check a code from the authenticator or a recovery code; return the device's persistent id.

    The device row is locked, so one code cannot pass twice even by two requests at once:
    django-otp refuses a TOTP step at or before the last one used, and deletes a used recovery
    code. Raises ValidationError for a wrong, reused or throttled code.
    """
    token = token.strip()
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            candidate = _digits(token) if model is TOTPDevice else token.replace(" ", "").lower()
            if candidate and device.verify_token(candidate):
                return device.persistent_id
    raise ValidationError({"token": "That code is not right, or it was already used."})


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())
