"""When leads are rescored: each trigger, bulk runs with progress, the nightly decay, auto MQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from funnel.models import StageTransition
from funnel.scoring import services, tasks
from funnel.scoring.models import LeadScore, RescoreRun, RuleKind, ScoreChange
from funnel.services import stage_move
from funnel.stages import Stage
from leads import signals
from leads.models import ActivityKind, Lead, Via
from leads.services import activity_log, lead_update
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.scoring.conftest import NOW, add_rule, settings_set


def _score(org, lead) -> int:
    with tenant_context(org):
        return Lead.objects.get(pk=lead.pk).score


def _reasons(org, lead) -> list[str]:
    with tenant_context(org):
        return list(
            ScoreChange.objects.filter(lead=lead).order_by("at", "pk").values_list("reason", flat=True)
        )


@pytest.fixture
def fit_model(org, robotics):
    add_rule(org, name="Robotics", kind=RuleKind.INDUSTRY, industry=robotics, points=15)
    add_rule(org, name="Demo", kind=RuleKind.ACTIVITY, activity_kind=ActivityKind.DEMO, points=40)
    return org


# --- Triggers ------------------------------------------------------------------------------------


def test_a_new_lead_is_scored(org, fit_model, robotics, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(org, company="Arm Co", industry=robotics)
    assert _score(org, lead) == 15
    assert _reasons(org, lead) == ["lead_created"]


def test_a_scored_field_edit_rescoring_the_lead(org, fit_model, robotics, django_capture_on_commit_callbacks):
    lead = make_lead(org, company="Arm Co")
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        lead_update(org=org, actor=None, lead_id=lead.pk, data={"industry": robotics})
    assert _score(org, lead) == 15
    assert _reasons(org, lead) == ["lead_edited"]


def test_an_edit_of_an_unscored_field_queues_nothing(org, fit_model, django_capture_on_commit_callbacks):
    lead = make_lead(org, company="Arm Co")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, tenant_context(org):
        lead_update(org=org, actor=None, lead_id=lead.pk, data={"notes": "Called back"})
    assert len(callbacks) == 1  # lead_updated itself; the scoring receiver let it pass
    with tenant_context(org):
        assert not LeadScore.objects.filter(lead=lead).exists()


def test_a_logged_activity_rescoring_the_lead(org, fit_model, django_capture_on_commit_callbacks):
    lead = make_lead(org, company="Arm Co")
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        activity_log(org=org, actor=None, lead_id=lead.pk, kind=ActivityKind.DEMO)
    assert _score(org, lead) == 40
    assert _reasons(org, lead) == ["activity_logged"]


def test_lead_scored_is_sent_after_commit_with_the_scores(
    org, fit_model, robotics, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    signals.lead_scored.connect(listener)
    try:
        lead = make_lead(org, company="Arm Co", industry=robotics)
        with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
            services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
            assert received == []
    finally:
        signals.lead_scored.disconnect(listener)
    assert received == [
        {
            "signal": signals.lead_scored,
            "organization_id": org.pk,
            "lead_id": lead.pk,
            "score": 15,
            "previous_score": 0,
        }
    ]


def test_queued_leads_are_scored_as_one_batch(org, fit_model, robotics):
    """The import path: many lead_created at once are drained together by one task."""
    leads = [make_lead(org, company=f"Batch {n}", industry=robotics) for n in range(30)]
    client = tasks._redis()
    # As the receivers would queue them while a drain is already scheduled (no task per lead).
    client.set(tasks._scheduled_key(org.pk, "lead_created"), "1")
    for lead in leads:
        tasks.rescore_soon(organization_id=org.pk, lead_ids=[lead.pk], reason="lead_created")
    assert client.scard(tasks._pending_key(org.pk, "lead_created")) == 30
    with tenant_context(org):
        scored = {lead.pk: Lead.objects.get(pk=lead.pk).score for lead in leads}
    assert set(scored.values()) == {0}  # nothing ran yet: one drain is pending
    assert tasks.pending_rescore_task.delay(organization_id=org.pk, reason="lead_created").get() == 30
    with tenant_context(org):
        assert set(Lead.objects.filter(pk__in=scored).values_list("score", flat=True)) == {15}


def test_a_batch_is_scored_with_a_fixed_number_of_queries(
    org, fit_model, robotics, django_assert_max_num_queries
):
    leads = [make_lead(org, company=f"Batch {n}", industry=robotics) for n in range(40)]
    with tenant_context(org), django_assert_max_num_queries(12):
        results = services.leads_rescore(
            org=org, lead_ids=[lead.pk for lead in leads], reason="lead_created", now=NOW
        )
    assert [result.score for result in results] == [15] * 40


def test_an_import_through_the_bulk_path_gets_every_lead_scored(
    org, fit_model, alice, django_capture_on_commit_callbacks
):
    from leads.imports.services import leads_upsert_bulk

    rows = [
        {"company": f"Imported {n}", "industry": "Robotics", "email": f"i{n}@imp{n}.example"}
        for n in range(60)
    ]
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        results = leads_upsert_bulk(org=org, actor=alice, rows=rows, via=Via.IMPORT)
    ids = [result.lead_id for result in results]
    with tenant_context(org):
        assert sorted(Lead.objects.filter(pk__in=ids).values_list("score", flat=True)) == [15] * 60
        assert LeadScore.objects.filter(lead_id__in=ids).count() == 60


# --- Bulk runs -----------------------------------------------------------------------------------


def test_a_rules_change_rescoring_every_live_lead_in_chunks_with_progress(
    org, fit_model, robotics, django_capture_on_commit_callbacks
):
    leads = [make_lead(org, company=f"Lead {n}", industry=robotics) for n in range(5)]
    deleted = make_lead(org, company="Gone", industry=robotics)
    with tenant_context(org):
        Lead.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
        run = services.rescore_run_start(org=org, actor=None, reason="rules_changed")
        assert (run.total, run.done, run.finished_at) == (5, 0, None)
        first = services.rescore_run_step(org=org, run_id=run.pk, chunk_size=2)
        assert (first.done, first.finished_at) == (2, None)
        second = services.rescore_run_step(org=org, run_id=run.pk, chunk_size=2)
        third = services.rescore_run_step(org=org, run_id=run.pk, chunk_size=2)
        assert (second.done, third.done, third.status, third.changed) == (4, 5, "done", 5)
        assert third.finished_at is not None
        assert set(
            Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("score", flat=True)
        ) == {15}
        assert Lead.objects.get(pk=deleted.pk).score == 0


def test_saving_a_rule_starts_a_run_that_finishes(org, robotics, django_capture_on_commit_callbacks):
    lead = make_lead(org, company="Arm Co", industry=robotics)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
        services.scoring_rule_create(
            org=org,
            actor=None,
            data={"name": "Robotics", "kind": RuleKind.INDUSTRY, "industry": robotics, "points": 12},
        )
    with tenant_context(org):
        run = RescoreRun.objects.get()
    assert (run.status, run.total, run.done) == ("done", 1, 1)
    assert _score(org, lead) == 12
    assert _reasons(org, lead) == ["rules_changed"]


def test_a_newer_run_supersedes_the_running_one(org, fit_model):
    with tenant_context(org):
        old = services.rescore_run_start(org=org, actor=None, reason="rules_changed")
        services.rescore_run_start(org=org, actor=None, reason="rules_changed")
        old.refresh_from_db()
        assert old.status == "superseded"
        assert services.rescore_run_step(org=org, run_id=old.pk).done == 0


def test_the_nightly_decay_rescoring_only_leads_with_behaviour_points(
    org, django_capture_on_commit_callbacks
):
    add_rule(
        org,
        name="Demo",
        kind=RuleKind.ACTIVITY,
        activity_kind=ActivityKind.DEMO,
        points=40,
        half_life_days=10,
    )
    active = make_lead(org, company="Active")
    quiet = make_lead(org, company="Quiet")
    with tenant_context(org):
        activity_log(org=org, actor=None, lead_id=active.pk, kind=ActivityKind.DEMO, occurred_at=NOW)
        services.lead_rescore(org=org, lead_id=active.pk, reason="activity_logged", now=NOW)
        services.lead_rescore(org=org, lead_id=quiet.pk, reason="lead_created", now=NOW)
    assert _score(org, active) == 40
    with django_capture_on_commit_callbacks(execute=True):
        assert org.pk in tasks.rescore_decay_fanout.delay().get()
    with tenant_context(org):
        run = RescoreRun.objects.get()
    # Real time is months after NOW: 40 points with a 10-day half-life have decayed to 0.
    assert (run.scope, run.reason, run.total, run.done, run.changed) == ("behaviour", "decay", 1, 1, 1)
    assert _score(org, active) == 0
    assert _reasons(org, active) == ["activity_logged", "decay"]


def test_no_decay_run_without_a_decaying_rule(org, fit_model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.rescore_decay_task.delay(organization_id=org.pk).get() is None
    with tenant_context(org):
        assert not RescoreRun.objects.exists()


# --- Automatic MQL -------------------------------------------------------------------------------


def _mql_transitions(org, lead) -> list[tuple[str, str, str]]:
    with tenant_context(org):
        return list(
            StageTransition.objects.filter(lead=lead, to_stage=Stage.MQL).values_list(
                "from_stage", "reason", "via"
            )
        )


def test_automatic_mql_is_off_by_default(org, fit_model, robotics):
    lead = make_lead(org, company="Arm Co", industry=robotics)
    with tenant_context(org):
        assert services.scoring_settings(org=org).auto_mql_enabled is False
        result = services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        assert (result.score, result.promoted) == (15, False)
        assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_a_lead_reaching_the_threshold_is_promoted_once_through_the_stage_service(org, fit_model, robotics):
    settings_set(org, auto_mql_enabled=True, mql_threshold=15)
    lead = make_lead(org, company="Arm Co", industry=robotics)
    below = make_lead(org, company="Small Co")
    with tenant_context(org):
        first = services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        again = services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        services.lead_rescore(org=org, lead_id=below.pk, reason="lead_created", now=NOW)
        promoted = Lead.objects.get(pk=lead.pk)
        assert Lead.objects.get(pk=below.pk).stage == Stage.LEAD
    assert (first.promoted, again.promoted) == (True, False)
    assert promoted.stage == Stage.MQL and promoted.reached_mql_at is not None
    assert _mql_transitions(org, lead) == [(Stage.LEAD, "score ≥ 15", Via.SYSTEM)]


def test_a_recycled_lead_is_not_promoted_again(org, fit_model, robotics):
    settings_set(org, auto_mql_enabled=True, mql_threshold=15)
    lead = make_lead(org, company="Arm Co", industry=robotics)
    with tenant_context(org):
        services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage=Stage.DISQUALIFIED, reason="No budget")
        stage_move(org=org, actor=None, lead_id=lead.pk, to_stage=Stage.LEAD)
        assert (
            services.lead_rescore(org=org, lead_id=lead.pk, reason="rules_changed", now=NOW).promoted is False
        )
        assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_turning_automatic_mql_on_promotes_the_leads_already_above(
    org, fit_model, robotics, django_capture_on_commit_callbacks
):
    lead = make_lead(org, company="Arm Co", industry=robotics)
    with tenant_context(org):
        services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        settings_set(org, auto_mql_enabled=True, mql_threshold=10)
    assert _mql_transitions(org, lead) == [(Stage.LEAD, "score ≥ 10", Via.SYSTEM)]


@pytest.mark.django_db(transaction=True)
def test_two_racing_rescorings_promote_exactly_once(org, robotics):
    # Callbacks run for real here: the lead is scored (0, no rule yet) on creation; the rule is
    # added without a run, so both racers find 15 points and race to promote.
    settings_set(org, auto_mql_enabled=True, mql_threshold=15)
    lead = make_lead(org, company="Arm Co", industry=robotics)
    add_rule(org, name="Robotics", kind=RuleKind.INDUSTRY, industry=robotics, points=15)
    assert _score(org, lead) == 0
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def rescore() -> None:
        try:
            barrier.wait()
            with tenant_context(org):
                outcomes.append(
                    services.lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
                )
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=rescore) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(outcome, services.RescoreResult) for outcome in outcomes), outcomes
    assert sorted(outcome.promoted for outcome in outcomes) == [False, True]
    assert _mql_transitions(org, lead) == [(Stage.LEAD, "score ≥ 15", Via.SYSTEM)]
    assert _reasons(org, lead) == ["lead_created"]
