"""SQL statements per request, in-process (goal G3: constant in page size, ≤ 3 list / ≤ 4 create).

Prints one JSON object. "data" statements exclude what every request pays
before its own work: authentication and session, the organization and
membership lookups, the tenant setting (set_config / current_setting) and
transaction control. Run by bench/run.py with the benchmark's settings and database.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from leadtrack.accounts import mfa  # noqa: E402
from leadtrack.accounts.models import User  # noqa: E402

OVERHEAD = re.compile(
    r"set_config|current_setting|^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b|"
    r'"(django_session|accounts_user|tenancy_organization|tenancy_membership|api_apikey|axes_\w+)"',
    re.I,
)


def _statements(client: Client, method: str, path: str, **kwargs) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, **kwargs)
    return response.status_code, [q["sql"] for q in captured.captured_queries]


def count(client: Client, method: str, path: str, make_kwargs) -> dict:
    """The statements of the request as a warm process runs it (the second time): the first fills
    the per-process and cache entries (key, settings, rules) that later requests read. The first
    one's counts are kept too ("cold_*")."""
    _, cold = _statements(client, method, path, **make_kwargs())
    status, statements = _statements(client, method, path, **make_kwargs())
    data = [s for s in statements if not OVERHEAD.search(s)]
    return {
        "status": status,
        "total": len(statements),
        "data": len(data),
        "data_sql": data,
        "cold_total": len(cold),
        "cold_data": sum(1 for s in cold if not OVERHEAD.search(s)),
    }


def main(spec: dict) -> dict:
    results = {}
    session = Client()
    if spec.get("login_email"):
        person = User.objects.get(email=spec["login_email"])
        session.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
        # As after the second-factor page: the session remembers the authenticator that passed.
        device = TOTPDevice.objects.filter(user=person, confirmed=True).first() or TOTPDevice.objects.create(
            user=person, name="Benchmark authenticator", confirmed=True
        )
        state = session.session
        state[mfa.SESSION_KEY] = device.persistent_id
        state.save()
    for name, request in spec["requests"].items():
        key = request.get("api_key") or spec.get("api_key")
        client = Client(headers={"Authorization": f"Bearer {key}"}) if request.get("api") else session
        if request.get("api") and not key:
            continue

        def make_kwargs(request=request) -> dict:
            if request.get("json") is None:
                return {}
            # "{n}" in a body becomes a new number per call (a create's e-mail must be new each time).
            body = json.dumps(request["json"]).replace("{n}", str(time.time_ns()))
            return {"data": body, "content_type": "application/json"}

        results[name] = count(client, request.get("method", "get"), request["path"], make_kwargs)
    return results


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
