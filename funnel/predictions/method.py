"""The predictive score's method and its use: settings, samples, and scoring a lead with stored
parameters. Pure Python: every process that scores a lead imports this, while numpy and
scikit-learn (~110 MB per process) are loaded only where a model is trained (training.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from funnel.predictions.features import feature_label

PARAMETERS_FORMAT = 1
REGULARIZATION_C = 1.0
HOLDOUT_SHARE = 0.25
CV_FOLDS = 5
CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
TOP_FACTORS = 5
RANDOM_STATE = 0


@dataclass(frozen=True)
class Sample:
    """One closed lead: its features at its close, whether it was won, and when it closed."""

    features: Mapping[str, float]
    won: bool
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Factor:
    feature: str
    label: str
    contribution: float

    def as_json(self) -> dict:
        return {"feature": self.feature, "label": self.label, "contribution": round(self.contribution, 4)}


def predict(parameters: Mapping, features: Mapping[str, float]) -> tuple[float, list[Factor]]:
    """Probability of a win from stored parameters, and the top factors (largest |coef x value|).

    A feature the model has not seen (a new industry) contributes nothing.
    """
    coefficients = parameters["coefficients"]
    contributions = [
        Factor(name, feature_label(name, value), coefficients[name] * value)
        for name, value in features.items()
        if name in coefficients and value
    ]
    logit = parameters["intercept"] + sum(factor.contribution for factor in contributions)
    probability = 1.0 / (1.0 + math.exp(-logit)) if logit >= 0 else math.exp(logit) / (1.0 + math.exp(logit))
    contributions.sort(key=lambda factor: (-abs(factor.contribution), factor.feature))
    return probability, contributions[:TOP_FACTORS]
