"""T9: Celery tasks run under the organization they were given, through a real worker and Redis."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from leadtrack.celery import app
from tests.tenancy import tasks_for_tests


@pytest.fixture
def real_worker(transactional_db):
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


def test_it_runs_the_task_body_inside_its_organization(real_worker, alice, charlie, org, other_org):
    seen_a = tasks_for_tests.visible_memberships.delay(organization_id=org.pk).get(timeout=20)
    seen_b = tasks_for_tests.visible_memberships.delay(organization_id=other_org.pk).get(timeout=20)
    violations = int(seen_a["raw"] != [org.pk]) + int(seen_b["raw"] != [other_org.pk])
    print(f"\n[T9] tasks run=2 violations={violations}")
    assert seen_a == {"orm": [alice.email], "raw": [org.pk]}
    assert seen_b == {"orm": [charlie.email], "raw": [other_org.pk]}


def test_a_task_without_a_tenant_sees_no_tenant_rows(real_worker, alice, charlie):
    assert tasks_for_tests.visible_without_tenant.delay().get(timeout=20) == 0


def test_an_org_task_needs_its_organization(db):
    with pytest.raises(TypeError):
        tasks_for_tests.visible_memberships.apply()
