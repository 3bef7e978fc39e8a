"""Reads of the predictive score: the leads' features (set-based SQL), the history counts that gate
training, the model page and the lead panel, and the forecast beside the actual wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from funnel.predictions.models import ForecastSnapshot, LeadPrediction, PredictionModel, TrainingRun
from funnel.stages import OPEN_STAGES, Stage
from leads.models import ActivityKind, Lead
from leadtrack.tenancy.models import Organization

# The documented minimum history (shown on the model page): below it there is no model.
MIN_CLOSED_LEADS = 40
MIN_PER_CLASS = 10
NEGATIVE_STAGES = (Stage.LOST, Stage.DISQUALIFIED)
CLOSED_FOR_TRAINING = (Stage.WON, *NEGATIVE_STAGES)

_ACTIVITY_COLUMNS = ",\n        ".join(
    f"count(*) FILTER (WHERE a.kind = '{kind}') AS n_{kind}" for kind in ActivityKind.values
)
# One row per lead: its fields, and its activities per kind up to ``cutoff`` (its close for a closed
# lead: what was known before the outcome; everything for an open lead).
_FEATURE_SQL = f"""
SELECT l.id, l.stage, coalesce(i.name, '') AS industry, l.segment, l.region,
    coalesce(s.channel_type, '') AS channel, l.employees, l.job_title,
    l.phone <> '' AS has_phone, l.website <> '' AS has_website, cutoff.at AS closed_at, act.*
FROM leads_lead l
LEFT JOIN leads_source s ON s.id = l.source_id
LEFT JOIN leads_industry i ON i.id = l.industry_id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN l.stage IN ('{Stage.WON}', '{Stage.LOST}') THEN l.closed_at
        WHEN l.stage = '{Stage.DISQUALIFIED}' THEN coalesce((
            SELECT max(t.at) FROM funnel_stagetransition t
            WHERE t.organization_id = l.organization_id AND t.lead_id = l.id
                AND t.to_stage = '{Stage.DISQUALIFIED}'
        ), l.updated_at)
    END AS at
) AS cutoff
CROSS JOIN LATERAL (
    SELECT {_ACTIVITY_COLUMNS}
    FROM leads_activity a
    WHERE a.organization_id = l.organization_id AND a.lead_id = l.id
        AND (cutoff.at IS NULL OR a.occurred_at <= cutoff.at)
) AS act
WHERE l.organization_id = %(org)s AND l.deleted_at IS NULL AND l.stage = ANY(%(stages)s)
    AND l.id > %(after)s
ORDER BY l.id
LIMIT %(limit)s
"""


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def lead_feature_rows(
    *, org: Organization, stages: tuple[str, ...], chunk_size: int = 2000
) -> Iterator[list[dict]]:
    """The leads in ``stages`` with their feature columns, in chunks of ``chunk_size`` (keyset by id)."""
    after = 0
    while True:
        rows = _fetch(
            _FEATURE_SQL,
            {"org": org.pk, "stages": [str(stage) for stage in stages], "after": after, "limit": chunk_size},
        )
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]


@dataclass(frozen=True)
class History:
    won: int
    lost: int  # lost or disqualified

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def enough(self) -> bool:
        return self.closed >= MIN_CLOSED_LEADS and self.won >= MIN_PER_CLASS and self.lost >= MIN_PER_CLASS

    @property
    def message(self) -> str:
        """ "not enough history: N closed, need M" (with the class that is short, when it is)."""
        if self.enough:
            return ""
        if self.closed < MIN_CLOSED_LEADS:
            return (
                f"Not enough history: {self.closed} closed, need {MIN_CLOSED_LEADS} "
                f"(with at least {MIN_PER_CLASS} won and {MIN_PER_CLASS} lost or disqualified)."
            )
        return (
            f"Not enough history: {self.closed} closed ({self.won} won, {self.lost} lost or disqualified), "
            f"need at least {MIN_PER_CLASS} of each."
        )


def history_get(*, org: Organization) -> History:
    """How many closed leads the organization has to learn from."""
    counts = _fetch(
        "SELECT count(*) FILTER (WHERE stage = %(won)s) AS won, "
        "count(*) FILTER (WHERE stage = ANY(%(negative)s)) AS lost "
        "FROM leads_lead WHERE organization_id = %(org)s AND deleted_at IS NULL AND stage = ANY(%(closed)s)",
        {
            "org": org.pk,
            "won": str(Stage.WON),
            "negative": [str(stage) for stage in NEGATIVE_STAGES],
            "closed": [str(stage) for stage in CLOSED_FOR_TRAINING],
        },
    )[0]
    return History(won=counts["won"], lost=counts["lost"])


def active_model_get(*, org: Organization) -> PredictionModel | None:
    return PredictionModel.objects.filter(organization=org, is_active=True).first()


@dataclass(frozen=True)
class LeadPanel:
    """What the lead page shows: a probability with factors, or why there is none."""

    status: str  # "scored", "closed", "not_enough_history", "pending"
    probability: float | None = None
    factors: tuple[dict, ...] = ()
    model_version: int | None = None
    trained_at: datetime | None = None
    message: str = ""

    @property
    def percent(self) -> str:
        return "—" if self.probability is None else f"{self.probability * 100:.0f} %"


def lead_panel_get(*, org: Organization, lead: Lead) -> LeadPanel:
    """The predictions panel of one lead (the caller has already checked the lead is visible)."""
    if lead.stage not in OPEN_STAGES:
        return LeadPanel(status="closed", message="The lead is closed: there is nothing left to predict.")
    prediction = (
        LeadPrediction.objects.filter(organization=org, lead_id=lead.pk, model__is_active=True)
        .select_related("model")
        .first()
    )
    if prediction is not None:
        return LeadPanel(
            status="scored",
            probability=prediction.probability,
            factors=tuple(prediction.factors),
            model_version=prediction.model.version,
            trained_at=prediction.model.trained_at,
        )
    model = active_model_get(org=org)
    if model is None:
        history = history_get(org=org)
        if not history.enough:
            return LeadPanel(status="not_enough_history", message=history.message)
        return LeadPanel(status="pending", message="The first model has not been trained yet (nightly).")
    return LeadPanel(
        status="pending",
        model_version=model.version,
        trained_at=model.trained_at,
        message="Not scored yet: the lead will be scored at the next retraining.",
    )


def model_history(*, org: Organization, limit: int = 50) -> list[PredictionModel]:
    return list(PredictionModel.objects.filter(organization=org).order_by("-version")[:limit])


def training_runs(*, org: Organization, limit: int = 20) -> list[TrainingRun]:
    return list(TrainingRun.objects.filter(organization=org).select_related("requested_by")[:limit])


def month_start(moment: datetime, tz) -> date:
    return timezone.localtime(moment, tz).date().replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class ForecastRow:
    month: date
    taken_at: datetime
    model_version: int
    open_leads: int
    expected_wins: float
    actual_wins: int | None  # None while the month is not over
    closed: bool

    def as_measures(self) -> dict[str, Any]:
        """The measures the registry's forecast metrics divide (reports/metrics.py)."""
        return {
            "forecast_expected_wins": self.expected_wins,
            "forecast_open_leads": self.open_leads,
            "forecast_actual_wins": self.actual_wins,
        }


def forecast_rows(*, org: Organization, now: datetime | None = None, limit: int = 24) -> list[ForecastRow]:
    """Each month's forecast beside the actual: of the leads open when it was taken, those closed won
    within the month (local calendar). The actual is shown once the month is over."""
    now = now or timezone.now()
    current = month_start(now, org.tzinfo)
    rows = _fetch(
        """SELECT f.id, f.month, f.taken_at, f.model_version, f.open_leads, f.expected_wins,
            count(l.id) FILTER (
                WHERE l.stage = %(won)s
                AND (l.closed_at AT TIME ZONE %(tz)s) >= f.month
                AND (l.closed_at AT TIME ZONE %(tz)s) < f.month + interval '1 month'
            ) AS actual_wins
        FROM predictions_forecastsnapshot f
        LEFT JOIN predictions_forecastlead fl
            ON fl.organization_id = f.organization_id AND fl.snapshot_id = f.id
        LEFT JOIN leads_lead l ON l.organization_id = fl.organization_id AND l.id = fl.lead_id
            AND l.deleted_at IS NULL
        WHERE f.organization_id = %(org)s
        GROUP BY f.id
        ORDER BY f.month DESC
        LIMIT %(limit)s""",
        {"org": org.pk, "tz": org.time_zone, "won": str(Stage.WON), "limit": limit},
    )
    return [
        ForecastRow(
            month=row["month"],
            taken_at=row["taken_at"],
            model_version=row["model_version"],
            open_leads=row["open_leads"],
            expected_wins=row["expected_wins"],
            actual_wins=row["actual_wins"] if row["month"] < current else None,
            closed=row["month"] < current,
        )
        for row in rows
    ]


def expected_wins_now(*, org: Organization) -> tuple[float, int]:
    """Σ probabilities of the open leads scored by the active model, and how many there are."""
    row = _fetch(
        """SELECT coalesce(sum(p.probability), 0) AS expected, count(*) AS n
        FROM predictions_leadprediction p
        JOIN predictions_predictionmodel m ON m.id = p.model_id AND m.is_active
        JOIN leads_lead l ON l.organization_id = p.organization_id AND l.id = p.lead_id
        WHERE p.organization_id = %(org)s AND l.deleted_at IS NULL AND l.stage = ANY(%(open)s)""",
        {"org": org.pk, "open": [str(stage) for stage in OPEN_STAGES]},
    )[0]
    return float(row["expected"]), int(row["n"])


def forecast_exists(*, org: Organization, month: date) -> bool:
    return ForecastSnapshot.objects.filter(organization=org, month=month).exists()
