"""Fitting and evaluating the predictive score (method.py scores with stored parameters). No database here.

The model is an L2-regularised logistic regression (C = 1, fixed: nothing is tuned, so nothing can
be tuned on the holdout) over the features of ``features.py``. A lead's probability is
``1 / (1 + exp(-(intercept + Σ coefficient x value)))`` and each term of the sum is that feature's
contribution: the explanation is the model itself, not an approximation of it.

Evaluation, honestly:
- holdout: the most recently closed 25 % of leads, never seen by the evaluation model (which is
  fitted on the older 75 %, its vocabulary included). AUC on it is the "holdout AUC".
- cross-validation: stratified k-fold (k = 5, fewer when a class is small) over the older 75 % only;
  its mean AUC is the "CV AUC", its out-of-fold predictions give the calibration table.
- the active model is then refitted with the same settings on all closed leads (more history,
  same method); its figures are the ones measured above.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from funnel.predictions.method import (
    CALIBRATION_BINS,
    CV_FOLDS,
    HOLDOUT_SHARE,
    PARAMETERS_FORMAT,
    RANDOM_STATE,
    REGULARIZATION_C,
    Factor,
    Sample,
    predict,
)

__all__ = ["Factor", "Sample", "TrainingResult", "calibration_table", "cross_validate", "predict", "train"]


@dataclass
class TrainingResult:
    parameters: dict
    won: int
    lost: int
    holdout_count: int
    holdout_auc: float | None
    cv_auc: float | None
    cv_auc_std: float | None
    cv_folds: int
    calibration: list[dict] = field(default_factory=list)


def _fit(
    features: Sequence[Mapping[str, float]], labels: np.ndarray
) -> tuple[DictVectorizer, LogisticRegression]:
    vectorizer = DictVectorizer(sparse=True, sort=True)
    matrix = vectorizer.fit_transform(features)
    classifier = LogisticRegression(C=REGULARIZATION_C, max_iter=5000)
    classifier.fit(matrix, labels)
    return vectorizer, classifier


def _auc(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    if len(set(labels.tolist())) < 2:
        return None
    return float(roc_auc_score(labels, probabilities))


def calibration_table(labels: Sequence[int], probabilities: Sequence[float]) -> list[dict]:
    """Per probability bin [low, high): how many leads, the mean predicted probability and the
    observed win rate (None for an empty bin)."""
    table = []
    labels_array, probabilities_array = (
        np.asarray(labels, dtype=float),
        np.asarray(probabilities, dtype=float),
    )
    for index, (low, high) in enumerate(itertools.pairwise(CALIBRATION_BINS)):
        last = index == len(CALIBRATION_BINS) - 2
        mask = (probabilities_array >= low) & (
            (probabilities_array <= high) if last else (probabilities_array < high)
        )
        n = int(mask.sum())
        table.append(
            {
                "low": low,
                "high": high,
                "n": n,
                "mean_predicted": float(probabilities_array[mask].mean()) if n else None,
                "observed": float(labels_array[mask].mean()) if n else None,
            }
        )
    return table


def cross_validate(samples: Sequence[Sample]) -> tuple[float | None, float | None, int, list[dict]]:
    """Stratified k-fold over ``samples``: (mean AUC, its standard deviation, k, calibration table)."""
    labels = np.array([int(sample.won) for sample in samples])
    minority = int(min(labels.sum(), len(labels) - labels.sum())) if len(labels) else 0
    folds = min(CV_FOLDS, minority)
    if folds < 2:
        return None, None, 0, []
    out_of_fold = np.zeros(len(samples))
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        vectorizer, classifier = _fit([samples[i].features for i in train_index], labels[train_index])
        probabilities = classifier.predict_proba(
            vectorizer.transform([samples[i].features for i in test_index])
        )[:, 1]
        out_of_fold[test_index] = probabilities
        auc = _auc(labels[test_index], probabilities)
        if auc is not None:
            aucs.append(auc)
    return (
        float(np.mean(aucs)) if aucs else None,
        float(np.std(aucs)) if aucs else None,
        folds,
        calibration_table(labels.tolist(), out_of_fold.tolist()),
    )


def _time_split(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample]]:
    """Older 75 % for fitting and cross-validation, the most recently closed 25 % held out."""
    ordered = sorted(samples, key=lambda sample: (sample.closed_at is None, sample.closed_at or datetime.min))
    holdout_size = round(len(ordered) * HOLDOUT_SHARE)
    cut = len(ordered) - holdout_size
    return ordered[:cut], ordered[cut:]


def parameters_from(vectorizer: DictVectorizer, classifier: LogisticRegression) -> dict:
    names = vectorizer.get_feature_names_out().tolist()
    coefficients = classifier.coef_[0].tolist()
    return {
        "format": PARAMETERS_FORMAT,
        "method": f"logistic regression, L2, C={REGULARIZATION_C}",
        "intercept": float(classifier.intercept_[0]),
        "coefficients": {name: float(value) for name, value in zip(names, coefficients, strict=True)},
    }


def train(samples: Sequence[Sample]) -> TrainingResult:
    """Evaluate (holdout, cross-validation) then fit the model to keep on all ``samples``.

    The caller checks the minimum history first (services.MIN_CLOSED_LEADS …); here both classes
    must be present.
    """
    won = sum(1 for sample in samples if sample.won)
    lost = len(samples) - won
    if not won or not lost:
        raise ValueError("Training needs won and lost leads.")
    fitting, holdout = _time_split(samples)
    holdout_auc = None
    fitting_labels = np.array([int(sample.won) for sample in fitting])
    if len(set(fitting_labels.tolist())) == 2 and holdout:
        vectorizer, classifier = _fit([sample.features for sample in fitting], fitting_labels)
        holdout_probabilities = classifier.predict_proba(
            vectorizer.transform([sample.features for sample in holdout])
        )[:, 1]
        holdout_auc = _auc(np.array([int(sample.won) for sample in holdout]), holdout_probabilities)
    cv_auc, cv_std, folds, calibration = cross_validate(fitting)
    vectorizer, classifier = _fit(
        [sample.features for sample in samples], np.array([int(s.won) for s in samples])
    )
    return TrainingResult(
        parameters=parameters_from(vectorizer, classifier),
        won=won,
        lost=lost,
        holdout_count=len(holdout),
        holdout_auc=holdout_auc,
        cv_auc=cv_auc,
        cv_auc_std=cv_std,
        cv_folds=folds,
        calibration=calibration,
    )
