"""Give a benchmark person a confirmed authenticator and print its key (hex), so the harness logs in
through both steps like a real admin: password, then a TOTP code computed from this key."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from leadtrack.accounts.models import User  # noqa: E402


def main(email: str) -> None:
    user = User.objects.get(email=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Benchmark authenticator", confirmed=True)
    print(device.key)


if __name__ == "__main__":
    main(sys.argv[1])
