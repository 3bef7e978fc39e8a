"""Writes of the predictive score: training a new model version, scoring the open leads with it,
requesting a retrain, and the monthly forecast snapshot.

Minimum history (selectors.MIN_CLOSED_LEADS, MIN_PER_CLASS; shown on the model page): at least
40 closed leads, of which at least 10 won and 10 lost or
disqualified. Below that, logistic regression on a dozen one-hot fields overfits and its AUC means
little; the product says "not enough history" and the lead shows the rule score only.

A training run is one transaction under a per-organization advisory lock: the new version is
written, the open leads' predictions are rewritten set-based (one INSERT … SELECT FROM (VALUES …)
ON CONFLICT per chunk), then the new version replaces the active one. A run killed half-way rolls
back: the previous model and its predictions stay active. Each run has a ``run_key``
("nightly:<local date>", "manual:<token>"): repeating a key is a no-op.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from psycopg2.extras import execute_values

from funnel.predictions import selectors
from funnel.predictions.features import facts_from_row, lead_features
from funnel.predictions.method import Sample, predict
from funnel.predictions.models import ForecastSnapshot, PredictionModel, TrainingRun, Trigger
from funnel.predictions.selectors import CLOSED_FOR_TRAINING
from funnel.stages import OPEN_STAGES, Stage
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Organization

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
_LOCK_NAMESPACE = 8_000_008  # pg_advisory_xact_lock(namespace, organization id): one run per organization
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _lock(org: Organization) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, org.pk])


def training_samples(*, org: Organization) -> list[Sample]:
    """Every closed lead (won, lost, disqualified) with the features known at its close."""
    samples = []
    for rows in selectors.lead_feature_rows(org=org, stages=CLOSED_FOR_TRAINING, chunk_size=CHUNK_SIZE):
        samples.extend(
            Sample(
                features=lead_features(facts_from_row(row)),
                won=row["stage"] == Stage.WON,
                closed_at=row["closed_at"],
            )
            for row in rows
        )
    return samples


def predictions_write(*, org: Organization, model: PredictionModel, now: datetime) -> int:
    """Score every open lead with ``model``: one statement per chunk, then drop the rows of leads
    that are no longer open. Returns how many leads were scored."""
    scored = 0
    for rows in selectors.lead_feature_rows(org=org, stages=OPEN_STAGES, chunk_size=CHUNK_SIZE):
        values = []
        for row in rows:
            probability, factors = predict(model.parameters, lead_features(facts_from_row(row)))
            values.append((row["id"], probability, json.dumps([factor.as_json() for factor in factors])))
        with connection.cursor() as cursor:
            _upsert(cursor, org=org, model=model, now=now, values=values)
        scored += len(values)
    with connection.cursor() as cursor:
        cursor.execute(
            """DELETE FROM predictions_leadprediction p
            WHERE p.organization_id = %(org)s AND (p.model_id <> %(model)s OR NOT EXISTS (
                SELECT 1 FROM leads_lead l
                WHERE l.organization_id = p.organization_id AND l.id = p.lead_id
                    AND l.deleted_at IS NULL AND l.stage = ANY(%(open)s)
            ))""",
            {"org": org.pk, "model": model.pk, "open": [str(stage) for stage in OPEN_STAGES]},
        )
    return scored


def _upsert(cursor, *, org: Organization, model: PredictionModel, now: datetime, values: list[tuple]) -> None:
    execute_values(
        cursor,
        """INSERT INTO predictions_leadprediction
            (organization_id, lead_id, model_id, probability, factors, predicted_at)
        SELECT v.organization_id, v.lead_id, v.model_id, v.probability, v.factors::jsonb, v.predicted_at
        FROM (VALUES %s) AS v(organization_id, lead_id, model_id, probability, factors, predicted_at)
        ON CONFLICT (organization_id, lead_id) DO UPDATE SET
            model_id = EXCLUDED.model_id, probability = EXCLUDED.probability,
            factors = EXCLUDED.factors, predicted_at = EXCLUDED.predicted_at""",
        [(org.pk, lead_id, model.pk, probability, factors, now) for lead_id, probability, factors in values],
        template="(%s, %s, %s, %s::float8, %s, %s::timestamptz)",
        page_size=len(values) or 1,
    )


def _run_get_or_create(
    *, org: Organization, run_key: str, trigger: str, actor: User | None, now: datetime
) -> tuple[TrainingRun, bool]:
    return TrainingRun.objects.get_or_create(
        organization=org,
        run_key=run_key,
        defaults={"trigger": trigger, "requested_by": actor, "queued_at": now},
    )


@transaction.atomic
def prediction_model_train(
    *,
    org: Organization,
    run_key: str,
    trigger: str = Trigger.NIGHTLY,
    actor: User | None = None,
    now: datetime | None = None,
) -> TrainingRun:
    """Train a new version from the organization's closed history, score the open leads, activate it.

    - Idempotent: a run whose key already finished (trained, or found too little history) is
      returned as it is; nothing is trained twice.
    - Below the minimum history the run ends "not enough history" and the active model, if any,
      stays (it was trained when there was enough).
    - Atomic: the version, the predictions and the switch of the active model commit together.
    """
    now = now or timezone.now()
    _lock(org)
    run, _ = _run_get_or_create(org=org, run_key=run_key, trigger=trigger, actor=actor, now=now)
    if run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.NOT_ENOUGH_HISTORY):
        return run
    history = selectors.history_get(org=org)
    if not history.enough:
        run.status, run.message, run.finished_at = TrainingRun.Status.NOT_ENOUGH_HISTORY, history.message, now
        run.save(update_fields=["status", "message", "finished_at"])
        return run
    # Imported here: numpy and scikit-learn weigh ~110 MB, and only a training run needs them.
    from funnel.predictions.training import train

    result = train(training_samples(org=org))
    version = (PredictionModel.objects.filter(organization=org).aggregate(top=Max("version"))["top"] or 0) + 1
    model = PredictionModel.objects.create(
        organization=org,
        version=version,
        is_active=False,
        trained_at=now,
        trigger=trigger,
        won_count=result.won,
        lost_count=result.lost,
        holdout_count=result.holdout_count,
        holdout_auc=result.holdout_auc,
        cv_auc=result.cv_auc,
        cv_auc_std=result.cv_auc_std,
        cv_folds=result.cv_folds,
        calibration=result.calibration,
        parameters=result.parameters,
    )
    model.open_leads_scored = predictions_write(org=org, model=model, now=now)
    PredictionModel.objects.filter(organization=org, is_active=True).update(is_active=False)
    model.is_active = True
    model.save(update_fields=["is_active", "open_leads_scored"])
    run.status, run.model, run.finished_at = TrainingRun.Status.SUCCEEDED, model, now
    run.message = f"Version {version}: {result.won} won, {result.lost} lost or disqualified."
    run.save(update_fields=["status", "model", "finished_at", "message"])
    logger.info(
        "prediction model trained org=%s version=%s won=%s lost=%s holdout_auc=%s cv_auc=%s scored=%s",
        org.pk,
        version,
        result.won,
        result.lost,
        result.holdout_auc,
        result.cv_auc,
        model.open_leads_scored,
    )
    return run


@transaction.atomic
def training_run_fail(*, org: Organization, run_key: str, trigger: str, error: str) -> None:
    """Record a failed run (called after its own transaction rolled back)."""
    run, _ = _run_get_or_create(org=org, run_key=run_key, trigger=trigger, actor=None, now=timezone.now())
    if run.status == TrainingRun.Status.QUEUED:
        run.status, run.message, run.finished_at = TrainingRun.Status.FAILED, error[:500], timezone.now()
        run.save(update_fields=["status", "message", "finished_at"])


def retrain_token_new() -> str:
    """The one-use key a retrain form carries, so that a double submit queues one run."""
    return uuid.uuid4().hex


@transaction.atomic
def prediction_retrain_request(
    *, org: Organization, actor: User, token: str, now: datetime | None = None
) -> TrainingRun:
    """ "Retrain now": record the run and queue it after commit. Raises ValidationError for a
    malformed token; the same token again returns the same run and queues nothing new."""
    if not _TOKEN.match(token or ""):
        raise ValidationError({"token": "This form has expired: reload the page and try again."})
    now = now or timezone.now()
    run, created = _run_get_or_create(
        org=org, run_key=f"manual:{token}", trigger=Trigger.MANUAL, actor=actor, now=now
    )
    if created:
        from funnel.predictions.tasks import prediction_model_train_task

        transaction.on_commit(
            lambda: prediction_model_train_task.delay(
                organization_id=org.pk, run_key=run.run_key, trigger=Trigger.MANUAL
            )
        )
    return run


@transaction.atomic
def forecast_snapshot_take(*, org: Organization, now: datetime | None = None) -> ForecastSnapshot | None:
    """The month's forecast: Σ probabilities of the open leads scored by the active model, with the
    leads it covers (one INSERT … SELECT). Idempotent per month; None without an active model."""
    now = now or timezone.now()
    month = selectors.month_start(now, org.tzinfo)
    _lock(org)
    existing = ForecastSnapshot.objects.filter(organization=org, month=month).first()
    if existing is not None:
        return existing
    model = selectors.active_model_get(org=org)
    if model is None:
        return None
    expected, open_leads = selectors.expected_wins_now(org=org)
    snapshot = ForecastSnapshot.objects.create(
        organization=org,
        month=month,
        taken_at=now,
        model=model,
        model_version=model.version,
        open_leads=open_leads,
        expected_wins=expected,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO predictions_forecastlead (organization_id, snapshot_id, lead_id, probability)
            SELECT p.organization_id, %(snapshot)s, p.lead_id, p.probability
            FROM predictions_leadprediction p
            JOIN leads_lead l ON l.organization_id = p.organization_id AND l.id = p.lead_id
            WHERE p.organization_id = %(org)s AND p.model_id = %(model)s
                AND l.deleted_at IS NULL AND l.stage = ANY(%(open)s)""",
            {
                "snapshot": snapshot.pk,
                "org": org.pk,
                "model": model.pk,
                "open": [str(stage) for stage in OPEN_STAGES],
            },
        )
    return snapshot
