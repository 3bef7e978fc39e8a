"""Reliability matrix row D5 (../shared/docs/reliability.md §2): atomicity under injected faults.

An exception is injected (mock.patch of an internal step) after part of a multi-row write has
happened: a stage move, an import chunk (set-based and per-row), a partner referral turned into a
lead, the REST bulk upsert and the lead list's bulk action. Afterwards every table holds exactly
the rows it held before: 0 partial rows.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from funnel.stages import Stage
from leads.imports import services as import_services
from leads.imports.services import (
    import_job_create,
    import_job_run_step,
    import_job_set_mapping,
    import_job_start,
)
from leads.models import ImportJob, Lead
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from referrals import services as referral_services
from tests.factories import make_lead
from tests.leads.imports.helpers import salesforce_csv
from tests.referrals.conftest import make_partner, make_program, submit

scenarios: dict[str, int] = {}


class InjectedFault(Exception):
    pass


def _row_counts(org) -> dict[str, int]:
    """Rows of every table, as the organization sees them (RLS scopes tenant tables)."""
    with tenant_context(org):
        return {
            model._meta.label: model._base_manager.count()
            for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy
        }


def _partial_rows(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {label: after[label] - before[label] for label in before if after[label] != before[label]}


def _failing_on_call(real, number: int):
    """``real``, except that call ``number`` raises: the earlier calls' rows are written by then."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise InjectedFault(f"injected at call {number}")
        return real(*args, **kwargs)

    wrapper.calls = calls
    return wrapper


def _record(name: str, before, after) -> None:
    partial = _partial_rows(before, after)
    scenarios[name] = sum(abs(n) for n in partial.values())
    assert partial == {}, partial


def test_d5_a_stage_move_fails_after_saving_the_lead(org, mike):
    from funnel import services as funnel_services
    from funnel.models import StageTransition

    lead = make_lead(org, company="Move Co")
    before = _row_counts(org)
    # The lead row is saved, then writing its transition fails.
    with (
        tenant_context(org),
        mock.patch.object(StageTransition.objects, "create", side_effect=InjectedFault),
        pytest.raises(InjectedFault),
    ):
        funnel_services.stage_move(org=org, actor=mike, lead_id=lead.pk, to_stage=Stage.MQL)
    with tenant_context(org):
        stored = Lead.objects.get(pk=lead.pk)
        assert (stored.stage, stored.version, stored.reached_mql_at) == (Stage.LEAD, lead.version, None)
    _record("stage move", before, _row_counts(org))


def _started_job(org, mike, rows: int) -> ImportJob:
    with tenant_context(org):
        job = import_job_create(org=org, actor=mike, file_name="x.csv", content=salesforce_csv(rows, bad={}))
        mapping = {int(k): v for k, v in job.mapping.items()}
        import_job_set_mapping(
            org=org, job_id=job.pk, mapping=mapping, on_existing="skip", allow_history=True
        )
        import_job_start(org=org, job_id=job.pk)
        assert import_job_run_step(org=org, job_id=job.pk)  # the first step counts rows; nothing imported yet
    return job


def _failed_step(org, job: ImportJob) -> ImportJob:
    with tenant_context(org):
        assert import_job_run_step(org=org, job_id=job.pk) is False
        job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "InjectedFault" in job.failure
    assert (job.processed_rows, job.created_count) == (0, 0)
    return job


def test_d5_an_import_chunk_fails_after_its_set_based_insert(org, mike):
    job = _started_job(org, mike, rows=import_services.FAST_PATH_MIN_ROWS + 100)
    before = _row_counts(org)
    # Leads, their creation transitions and new sources are inserted; recording routing then fails.
    with mock.patch.object(import_services, "lead_routing_record_batch", side_effect=InjectedFault) as step:
        _failed_step(org, job)
    assert step.called
    after = _row_counts(org)
    after["leads.ImportJob"] = before["leads.ImportJob"]  # the job row itself is kept, marked failed
    _record("import chunk, set-based insert", before, after)


def test_d5_an_import_chunk_fails_half_way_through_its_rows(org, mike):
    job = _started_job(org, mike, rows=40)
    before = _row_counts(org)
    failing = _failing_on_call(import_services.lead_create, 21)
    with mock.patch.object(import_services, "lead_create", failing):
        _failed_step(org, job)
    assert failing.calls["n"] == 21  # 20 rows were written before the fault
    _record("import chunk, per-row path", before, _row_counts(org))


def test_d5_a_referral_fails_after_its_lead_was_created(org, mike):
    partner = make_partner(org, "Partnerco")
    program = make_program(org)
    before = _row_counts(org)
    # The lead, its transition, the referral and its event exist; the note on the lead fails.
    with (
        mock.patch.object(referral_services, "_note_on_lead", side_effect=InjectedFault) as step,
        pytest.raises(InjectedFault),
    ):
        submit(org, partner, program, notes="Met at the fair")
    assert step.called
    _record("referral to lead", before, _row_counts(org))


def test_d5_the_bulk_api_fails_half_way(org, mike):
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="D5", scopes=("read", "write"))
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    items = [{"company": f"Bulk {n}", "email": f"b{n}@bulk{n}.example"} for n in range(10)]
    before = _row_counts(org)
    failing = _failing_on_call(import_services._upsert_one, 6)
    with mock.patch.object(import_services, "_upsert_one", failing):
        response = api.post("/api/v1/leads/bulk/", {"items": items}, format="json")
    assert failing.calls["n"] == 6 and response.status_code == 500
    after = _row_counts(org)
    # Only the API key's usage bookkeeping may change; no lead data.
    for label in ("api.ApiKey", "api.IdempotencyKey"):
        after.pop(label, None), before.pop(label, None)
    _record("bulk API upsert", before, after)


def test_d5_the_list_bulk_action_fails_half_way(org, mike, bob, login):
    from leads import views

    leads = [make_lead(org, company=f"Assign {n}") for n in range(6)]
    client = login(mike)
    client.raise_request_exception = False
    before = _row_counts(org)
    failing = _failing_on_call(views.lead_update, 4)
    with mock.patch.object(views, "lead_update", failing):
        response = client.post(
            reverse("lead_list", kwargs={"org_slug": org.slug}),
            {"action": "assign", "owner": bob.pk, "lead": [f"{lead.pk}:{lead.version}" for lead in leads]},
        )
    assert failing.calls["n"] == 4 and response.status_code == 500
    with tenant_context(org):
        assert not Lead.objects.filter(owner=bob).exists()
    after = _row_counts(org)
    for label in ("sessions.Session", "axes.AccessLog"):
        after.pop(label, None), before.pop(label, None)
    _record("list bulk assign", before, after)


def test_d5_zz_figures():
    assert scenarios and all(partial == 0 for partial in scenarios.values())
    listed = ", ".join(f"{name}={partial}" for name, partial in scenarios.items())
    print(f"\n[D5] scenarios={len(scenarios)}, partial rows: {listed}")
