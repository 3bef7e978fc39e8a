"""D6: work after a write is announced on commit only: a rolled-back create announces nothing, a
committed one announces a row that its receivers (webhooks, scoring, tasks) can already read."""

from __future__ import annotations

import pytest
from django.db import transaction

from leads import signals
from leads.models import Lead
from leads.services import lead_create
from leadtrack.tenancy.context import tenant_context


@pytest.fixture
def announced(org):
    seen: list[tuple[int, bool]] = []

    def receiver(sender, organization_id, lead_id, **kwargs):
        with tenant_context(org):
            seen.append((lead_id, Lead.objects.filter(pk=lead_id).exists()))

    signals.lead_created.connect(receiver, dispatch_uid="test-d6")
    yield seen
    signals.lead_created.disconnect(dispatch_uid="test-d6")


def test_d6_a_rolled_back_create_announces_nothing(org, announced, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        tenant_context(org),
        transaction.atomic(),
    ):
        lead_create(org=org, actor=None, data={"company": "Rolled Back Co"})
        raise RuntimeError("fails after the write")
    assert callbacks == [] and announced == []
    with tenant_context(org):
        assert not Lead.objects.filter(company="Rolled Back Co").exists()
    print("D6: rollback → 0 announcements, 0 rows")


def test_d6_a_committed_create_announces_a_row_its_receivers_can_read(
    org, announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, tenant_context(org):
        lead = lead_create(org=org, actor=None, data={"company": "Committed Co"})
        assert announced == []  # nothing before the commit
    assert len(callbacks) >= 1
    assert announced == [(lead.pk, True)]
    print("D6: commit → 1 announcement, the receiver read the row")
