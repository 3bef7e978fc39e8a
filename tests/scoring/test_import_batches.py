"""An import chunk is scored as one batch: its leads are queued as they are created and drained once
when the chunk's leads_imported signal arrives, not one rescoring task per lead."""

from __future__ import annotations

from celery.signals import task_prerun

from funnel.scoring.models import RuleKind
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from tests.leads.imports.test_jobs import _run, _upload_and_map
from tests.scoring.conftest import add_rule

ROWS = 120


def _csv() -> bytes:
    lines = ["Company,Email,Employees"]
    lines += [f"Batch {i} Ltd,p{i}@batch{i}.example,{5000 if i % 2 else 20}" for i in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def test_an_imported_chunk_is_scored_by_one_drain(org, mike, login, django_capture_on_commit_callbacks):
    add_rule(org, name="Enterprise", kind=RuleKind.SEGMENT, segment="enterprise", points=20)
    drains = []

    def count(sender=None, **kwargs):
        if sender is not None and sender.name == "scoring.pending_rescore":
            drains.append(kwargs.get("kwargs"))

    task_prerun.connect(count, weak=False, dispatch_uid="test-import-drains")
    try:
        client = login(mike)
        job = _upload_and_map(client, org, _csv())
        job = _run(client, org, job, django_capture_on_commit_callbacks)
    finally:
        task_prerun.disconnect(dispatch_uid="test-import-drains")
    assert job.created_count == ROWS
    with tenant_context(org):
        scores = sorted(set(Lead.objects.values_list("score", flat=True)))
        enterprise = Lead.objects.filter(score=20).count()
    assert scores == [0, 20] and enterprise == ROWS // 2
    assert len(drains) == 1, drains
    print(f"scoring: {ROWS} imported leads scored by {len(drains)} drain task")
