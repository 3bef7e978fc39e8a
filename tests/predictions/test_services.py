"""Training, scoring and forecasting against PostgreSQL: end to end, idempotent, atomic, set-based."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funnel.models import StageTransition
from funnel.predictions import selectors, services
from funnel.predictions.features import facts_from_row, lead_features
from funnel.predictions.models import (
    ForecastLead,
    ForecastSnapshot,
    LeadPrediction,
    PredictionModel,
    TrainingRun,
)
from funnel.predictions.tasks import prediction_model_train_task
from funnel.predictions.training import predict
from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Activity, ActivityKind, Lead
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _backdate(org, leads, to):
    """Test setup: leads created (and their first transition) at ``to``, so that moves can be dated."""
    ids = [lead.pk for lead in leads]
    with tenant_context(org):
        Lead.objects.filter(pk__in=ids).update(created_at=to)
        StageTransition.objects.filter(lead_id__in=ids).update(at=to)


def _train(org, key="nightly:2026-03-01", now=NOW):
    with tenant_context(org):
        return services.prediction_model_train(org=org, run_key=key, now=now)


def test_it_trains_on_history_with_a_signal_and_scores_every_open_lead(org, history_factory):
    history = history_factory(org, closed=300, open_leads=40)
    run = _train(org)
    with tenant_context(org):
        model = PredictionModel.objects.get(organization=org)
        predictions = {p.lead_id: p for p in LeadPrediction.objects.filter(organization=org)}
    assert run.status == TrainingRun.Status.SUCCEEDED and run.model == model
    assert (model.version, model.is_active, model.trained_at) == (1, True, NOW)
    assert model.won_count == history.won
    assert model.lost_count == history.lost + history.disqualified
    assert model.holdout_count == 75
    assert model.cv_auc > 0.75
    assert model.holdout_auc > 0.7
    assert sum(row["n"] for row in model.calibration) == 225
    assert set(predictions) == set(history.open_ids)
    assert model.open_leads_scored == 40
    assert all(0 < p.probability < 1 and p.model_id == model.pk for p in predictions.values())


def test_stored_parameters_reproduce_the_stored_probabilities(org, history_factory):
    history = history_factory(org, closed=120, open_leads=10)
    _train(org)
    with tenant_context(org):
        model = PredictionModel.objects.get(organization=org, is_active=True)
        rows = [row for chunk in selectors.lead_feature_rows(org=org, stages=(Stage.LEAD,)) for row in chunk]
        stored = dict(LeadPrediction.objects.filter(organization=org).values_list("lead_id", "probability"))
    assert len(rows) == history.open == 10
    for row in rows:
        probability, _ = predict(model.parameters, lead_features(facts_from_row(row)))
        assert stored[row["id"]] == pytest.approx(probability, abs=1e-12)
    assert all(isinstance(value, float) for value in model.parameters["coefficients"].values())


def test_features_count_activities_up_to_the_close_only(org, alice):
    lead = make_lead(org, actor=alice, company="Early")
    disqualified = make_lead(org, actor=alice, company="Nope")
    _backdate(org, [lead, disqualified], NOW - timedelta(days=30))
    with tenant_context(org):
        activity_log(
            org=org, actor=alice, lead_id=lead.pk, kind=ActivityKind.DEMO, occurred_at=NOW - timedelta(days=3)
        )
        stage_move(
            org=org, actor=alice, lead_id=lead.pk, to_stage=Stage.WON, amount=100, at=NOW - timedelta(days=2)
        )
        Activity.objects.create(
            organization=org, lead=lead, kind=ActivityKind.DEMO, occurred_at=NOW - timedelta(days=1)
        )
        activity_log(
            org=org,
            actor=alice,
            lead_id=disqualified.pk,
            kind=ActivityKind.CALL,
            occurred_at=NOW - timedelta(days=5),
        )
        stage_move(
            org=org,
            actor=alice,
            lead_id=disqualified.pk,
            to_stage=Stage.DISQUALIFIED,
            reason="x",
            at=NOW - timedelta(days=4),
        )
        activity_log(
            org=org,
            actor=alice,
            lead_id=disqualified.pk,
            kind=ActivityKind.CALL,
            occurred_at=NOW - timedelta(days=3),
        )
        rows = {
            row["id"]: row
            for chunk in selectors.lead_feature_rows(org=org, stages=selectors.CLOSED_FOR_TRAINING)
            for row in chunk
        }
    # One demo before the win, one after: the one after is not known at the close.
    assert rows[lead.pk]["n_demo"] == 1 and rows[lead.pk]["closed_at"] == NOW - timedelta(days=2)
    # Disqualified: closed at its transition; the call after it does not count.
    assert rows[disqualified.pk]["n_call"] == 1 and rows[disqualified.pk]["closed_at"] == NOW - timedelta(
        days=4
    )


def test_below_the_minimum_history_there_is_no_model(org, history_factory):
    history_factory(org, closed=39, open_leads=2)
    run = _train(org)
    with tenant_context(org):
        assert not PredictionModel.objects.filter(organization=org).exists()
        assert not LeadPrediction.objects.filter(organization=org).exists()
        lead = Lead.objects.filter(organization=org, stage=Stage.LEAD).first()
        panel = selectors.lead_panel_get(org=org, lead=lead)
    assert run.status == TrainingRun.Status.NOT_ENOUGH_HISTORY
    assert run.message.startswith("Not enough history: 39 closed, need 40")
    assert panel.status == "not_enough_history" and panel.message == run.message


def test_enough_leads_but_too_few_of_one_class_is_not_enough(org):
    with tenant_context(org):
        leads = [
            Lead(organization=org, company=f"C{i}", stage=Stage.WON if i < 9 else Stage.LOST, closed_at=NOW)
            for i in range(50)
        ]
        Lead.objects.bulk_create(leads)
        history = selectors.history_get(org=org)
    assert (history.closed, history.won, history.lost, history.enough) == (50, 9, 41, False)
    assert history.message == (
        "Not enough history: 50 closed (9 won, 41 lost or disqualified), need at least 10 of each."
    )


def test_the_same_run_key_trains_once_and_a_new_key_replaces_the_active_version(org, history_factory):
    history_factory(org, closed=100, open_leads=5)
    first = _train(org)
    again = _train(org)
    with tenant_context(org):
        assert PredictionModel.objects.filter(organization=org).count() == 1
    assert again.pk == first.pk and again.model_id == first.model_id
    _train(org, key="nightly:2026-03-02", now=NOW + timedelta(days=1))
    with tenant_context(org):
        versions = list(PredictionModel.objects.filter(organization=org).values_list("version", "is_active"))
        second = PredictionModel.objects.get(organization=org, version=2)
        assert set(LeadPrediction.objects.filter(organization=org).values_list("model_id", flat=True)) == {
            second.pk
        }
    assert sorted(versions) == [(1, False), (2, True)]


def test_the_task_is_idempotent(org, history_factory):
    history_factory(org, closed=100, open_leads=5)
    for _ in range(2):
        status = prediction_model_train_task.delay(organization_id=org.pk, run_key="nightly:2026-03-01").get()
        assert status == TrainingRun.Status.SUCCEEDED
    with tenant_context(org):
        assert PredictionModel.objects.filter(organization=org).count() == 1
        assert TrainingRun.objects.filter(organization=org).count() == 1


def test_a_run_killed_half_way_leaves_the_previous_model_active(org, history_factory, monkeypatch):
    history_factory(org, closed=100, open_leads=5)
    _train(org)
    with tenant_context(org):
        before = dict(LeadPrediction.objects.filter(organization=org).values_list("lead_id", "probability"))

    def killed(**kwargs):
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(services, "predictions_write", killed)
    with pytest.raises(KeyboardInterrupt):
        _train(org, key="nightly:2026-03-02")
    with tenant_context(org):
        assert list(PredictionModel.objects.filter(organization=org).values_list("version", "is_active")) == [
            (1, True)
        ]
        after = dict(LeadPrediction.objects.filter(organization=org).values_list("lead_id", "probability"))
        assert not TrainingRun.objects.filter(organization=org, run_key="nightly:2026-03-02").exists()
    assert after == before


def test_predictions_are_written_one_statement_per_chunk(org, history_factory, monkeypatch):
    history = history_factory(org, closed=100, open_leads=5)
    _train(org)
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    with tenant_context(org):
        model = PredictionModel.objects.get(organization=org)
        # A lead that closed since: its prediction goes.
        closed_lead = history.open_ids[0]
        Lead.objects.filter(pk=closed_lead).update(stage=Stage.LOST, closed_at=NOW)
        with CaptureQueriesContext(connection) as queries:
            scored = services.predictions_write(org=org, model=model, now=NOW + timedelta(hours=1))
        remaining = set(LeadPrediction.objects.filter(organization=org).values_list("lead_id", flat=True))
    writes = [q["sql"] for q in queries.captured_queries if "predictions_leadprediction" in q["sql"]]
    inserts = [sql for sql in writes if sql.lstrip().startswith("INSERT")]
    # 4 open leads in chunks of 2: 2 INSERT … ON CONFLICT statements, then 1 DELETE.
    assert scored == 4 and len(inserts) == 2 and len(writes) == 3
    assert remaining == set(history.open_ids[1:])


def _tiny_forecast(org, alice):
    """Three open leads scored 0.2, 0.5 and 0.9 by hand, and one closed lead scored 0.7."""
    leads = [make_lead(org, actor=alice, company=name) for name in ("A", "B", "C", "Closed")]
    _backdate(org, leads, NOW - timedelta(days=60))
    with tenant_context(org):
        model = PredictionModel.objects.create(
            organization=org,
            version=1,
            is_active=True,
            trained_at=NOW,
            trigger="manual",
            won_count=20,
            lost_count=20,
            holdout_count=10,
            parameters={"intercept": 0, "coefficients": {}},
        )
        stage_move(
            org=org,
            actor=alice,
            lead_id=leads[3].pk,
            to_stage=Stage.DISQUALIFIED,
            reason="spam",
            at=NOW - timedelta(days=1),
        )
        for lead, probability in zip(leads, (0.2, 0.5, 0.9, 0.7), strict=True):
            LeadPrediction.objects.create(
                organization=org, lead=lead, model=model, probability=probability, predicted_at=NOW
            )
    return leads, model


def test_the_forecast_is_the_sum_of_open_probabilities(org, alice):
    leads, _ = _tiny_forecast(org, alice)
    march = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    with tenant_context(org):
        assert selectors.expected_wins_now(org=org) == (pytest.approx(1.6), 3)
        snapshot = services.forecast_snapshot_take(org=org, now=march)
        assert services.forecast_snapshot_take(org=org, now=march + timedelta(days=3)).pk == snapshot.pk
        assert ForecastSnapshot.objects.filter(organization=org).count() == 1
        assert ForecastLead.objects.filter(organization=org, snapshot=snapshot).count() == 3
        # A won in March counts; B won in April does not; C stays open.
        stage_move(
            org=org,
            actor=alice,
            lead_id=leads[0].pk,
            to_stage=Stage.WON,
            amount=1,
            at=march + timedelta(days=9),
        )
        stage_move(
            org=org,
            actor=alice,
            lead_id=leads[1].pk,
            to_stage=Stage.WON,
            amount=1,
            at=march + timedelta(days=40),
        )
        during = selectors.forecast_rows(org=org, now=march + timedelta(days=20))
        after = selectors.forecast_rows(org=org, now=march + timedelta(days=45))
    assert (snapshot.month.isoformat(), snapshot.open_leads, snapshot.model_version) == ("2026-03-01", 3, 1)
    assert snapshot.expected_wins == pytest.approx(1.6)
    assert during[0].actual_wins is None and not during[0].closed
    assert after[0].actual_wins == 1 and after[0].closed
    from reports.metrics import metric_get

    assert metric_get("forecasted_win_rate").compute(after[0].as_measures(), None).value == pytest.approx(
        1.6 / 3
    )
    assert metric_get("forecast_actual_win_rate").compute(
        after[0].as_measures(), None
    ).value == pytest.approx(1 / 3)
    assert metric_get("forecast_actual_win_rate").compute(during[0].as_measures(), None).value is None


def test_the_month_is_the_organizations_local_month(org, alice):
    org.time_zone = "America/New_York"
    org.save()
    _tiny_forecast(org, alice)
    with tenant_context(org):
        # 03:00 UTC on 1 March is still 28 February in New York.
        snapshot = services.forecast_snapshot_take(org=org, now=datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    assert snapshot.month.isoformat() == "2026-02-01"


def test_no_forecast_without_a_model(org, alice):
    make_lead(org, actor=alice)
    with tenant_context(org):
        assert services.forecast_snapshot_take(org=org, now=NOW) is None
        assert selectors.forecast_rows(org=org, now=NOW) == []


def test_a_retrain_request_needs_a_well_formed_token_and_queues_once(
    org, mike, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    with tenant_context(org):
        with pytest.raises(ValidationError) as error:
            services.prediction_retrain_request(org=org, actor=mike, token="../../etc")
        assert "token" in error.value.message_dict
        token = services.retrain_token_new()
        with django_capture_on_commit_callbacks() as callbacks:
            first = services.prediction_retrain_request(org=org, actor=mike, token=token)
            second = services.prediction_retrain_request(org=org, actor=mike, token=token)
    assert first.pk == second.pk and len(callbacks) == 1


def test_the_forecast_task_takes_one_snapshot_per_month(org, alice):
    _tiny_forecast(org, alice)
    from funnel.predictions.tasks import forecast_snapshot_task

    first = forecast_snapshot_task.delay(organization_id=org.pk).get()
    second = forecast_snapshot_task.delay(organization_id=org.pk).get()
    with tenant_context(org):
        snapshot = ForecastSnapshot.objects.get(organization=org)
    assert first == second == snapshot.pk
    assert snapshot.expected_wins == pytest.approx(1.6)
