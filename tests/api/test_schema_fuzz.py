"""I6: schemathesis against /api/v1/schema/, in-process over WSGI with a real key.

Every operation gets generated valid and invalid inputs; the checks are: no server
error, status codes and content types as documented, bodies and headers matching
the schema, invalid input refused. Bounded (examples per operation) to about a minute.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from schemathesis.generation import GenerationMode

from leads.models import Campaign, Source, SpendEntry
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context
from tests.api.routes import VALUE_PARAMS
from tests.factories import make_lead

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]
# (mode, with the ids of real rows in the path, examples per operation)
RUNS = [
    (GenerationMode.POSITIVE, True, 30),
    (GenerationMode.POSITIVE, False, 15),
    (GenerationMode.NEGATIVE, False, 20),
]


@pytest.fixture
def wsgi_app():
    """The real WSGI app, in-process, inside the test's transaction: like Django's test client,
    keep request signals from closing the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _real_ids(org, alice) -> dict[str, int]:
    leads = [make_lead(org, company=f"Fuzz {n}", email=f"fuzz{n}@example.com") for n in range(3)]
    with tenant_context(org):
        activity = activity_log(org=org, actor=alice, lead_id=leads[0].pk, kind="note", subject="Hello")
        source = Source.objects.create(organization=org, name="Fuzz source")
        campaign = Campaign.objects.create(organization=org, name="Fuzz campaign", source=source)
        spend = SpendEntry.objects.create(organization=org, spent_on="2026-01-01", amount=100, source=source)
    return {
        "lead_id": leads[1].pk,
        "activity_id": activity.pk,
        "source_id": source.pk,
        "campaign_id": campaign.pk,
        "spend_id": spend.pk,
        "user_id": alice.pk,
    }


def test_the_whole_schema_holds_under_generated_input(org, alice, make_key, wsgi_app):
    ids = _real_ids(org, alice)
    key = make_key(org, ("read", "write"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    cases = 0
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    for operation in operations:
        names = [parameter.name for parameter in operation.path_parameters]
        for mode, real_ids, examples in RUNS:
            if real_ids and not names:
                continue
            known = {**VALUE_PARAMS, **ids}
            path_parameters = {name: known[name] for name in names} if real_ids else None

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                nonlocal cases
                cases += 1
                response = case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
                statuses[f"{response.status_code // 100}xx"] += 1

            try:
                run()
            except Exception as exc:  # collect every operation's failure, then fail once
                failures.append(f"{operation.label} [{mode.value}, real ids={real_ids}]: {str(exc)[:1500]}")
    seconds = time.monotonic() - started
    print(
        f"\n[I6] operations={len(operations)} cases={cases} failures={len(failures)} "
        f"seed=derandomized seconds={seconds:.0f} responses={dict(sorted(statuses.items()))}"
    )
    assert not failures, "\n\n".join(failures)
