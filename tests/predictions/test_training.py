"""The model without the database: signal and noise, stored parameters, calibration, features."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from funnel.predictions.features import LeadFacts, feature_label, lead_features, seniority, size_bin
from funnel.predictions.training import Sample, _fit, calibration_table, parameters_from, predict, train
from tests.predictions.conftest import signal_win_probability

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def generated_samples(n: int, *, seed: int, signal: bool) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for index in range(n):
        segment = rng.choice(["enterprise", "mid_market", "smb"])
        industry = rng.choice(["Software", "Retail", "Health"])
        demos = rng.choice([0, 0, 1, 2])
        facts = LeadFacts(
            industry=industry,
            segment=segment,
            region=rng.choice(["europe", "apac"]),
            channel=rng.choice(["paid", "web_form"]),
            employees=rng.choice([None, 20, 300]),
            job_title=rng.choice(["CEO", "Engineer", ""]),
            has_phone=rng.random() < 0.5,
            activity_counts={"demo": demos, "page_visit": rng.randint(0, 5)},
        )
        p = signal_win_probability(segment, industry, demos) if signal else 0.4
        samples.append(Sample(lead_features(facts), rng.random() < p, T0 + timedelta(hours=index)))
    return samples


def test_it_finds_a_known_signal():
    result = train(generated_samples(800, seed=1, signal=True))
    assert result.cv_auc > 0.75
    assert result.holdout_auc > 0.75
    assert result.won + result.lost == 800
    assert result.holdout_count == 200
    assert result.cv_folds == 5
    # The generator's strongest effects come out with their signs.
    coefficients = result.parameters["coefficients"]
    assert coefficients["segment=enterprise"] > 0 > coefficients["segment=smb"]
    assert coefficients["activity:demo"] > 0


def test_it_finds_nothing_in_pure_noise():
    result = train(generated_samples(3000, seed=2, signal=False))
    print(f"noise: cv_auc={result.cv_auc:.3f} holdout_auc={result.holdout_auc:.3f}")
    assert 0.35 < result.cv_auc < 0.65
    assert 0.35 < result.holdout_auc < 0.65


def test_the_holdout_is_the_most_recently_closed_quarter():
    samples = generated_samples(100, seed=3, signal=True)
    shuffled = samples[:]
    random.Random(0).shuffle(shuffled)
    # Same samples in another order: the same split by close time, hence the same figures.
    assert train(shuffled).holdout_auc == pytest.approx(train(samples).holdout_auc)


def test_stored_parameters_reproduce_the_probabilities():
    samples = generated_samples(300, seed=4, signal=True)
    vectorizer, classifier = _fit([s.features for s in samples], np.array([int(s.won) for s in samples]))
    parameters = json.loads(json.dumps(parameters_from(vectorizer, classifier)))  # as stored: JSON
    expected = classifier.predict_proba(vectorizer.transform([s.features for s in samples[:50]]))[:, 1]
    for sample, probability in zip(samples[:50], expected, strict=True):
        assert predict(parameters, sample.features)[0] == pytest.approx(probability, abs=1e-12)


def test_the_factors_are_the_terms_of_the_model():
    parameters = {
        "intercept": -1.0,
        "coefficients": {"segment=smb": -0.5, "industry=Software": 2.0, "activity:demo": 0.5},
    }
    features = {"segment=smb": 1.0, "industry=Software": 1.0, "activity:demo": math.log1p(3), "unseen=x": 1.0}
    probability, factors = predict(parameters, features)
    logit = -1.0 - 0.5 + 2.0 + 0.5 * math.log(4)
    assert probability == pytest.approx(1 / (1 + math.exp(-logit)))
    assert [(f.label, round(f.contribution, 4)) for f in factors] == [
        ("Industry: Software", 2.0),
        ("Demo x3", round(0.5 * math.log(4), 4)),
        ("Segment: SMB", -0.5),
    ]


def test_calibration_counted_by_hand():
    table = calibration_table([1, 0, 1, 0, 1], [0.1, 0.15, 0.5, 0.9, 1.0])
    assert [(row["n"], row["observed"]) for row in table] == [
        (2, 0.5),
        (0, None),
        (1, 1.0),
        (0, None),
        (2, 0.5),
    ]
    assert table[0]["mean_predicted"] == pytest.approx(0.125)
    assert table[4]["mean_predicted"] == pytest.approx(0.95)


def test_training_needs_both_classes():
    with pytest.raises(ValueError):
        train([Sample({"a=1": 1.0}, True, T0)] * 50)


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "c_level"),
        ("Co-founder", "c_level"),
        ("Vice President, Sales", "vp"),
        ("SVP Marketing", "vp"),
        ("Head of IT", "director"),
        ("Sales Director", "director"),
        ("Marketing Manager", "manager"),
        ("Engineer", "individual"),
        ("  ", "(none)"),
    ],
)
def test_job_titles_read_as_seniority(title, level):
    assert seniority(title) == level


def test_company_size_bins():
    assert [size_bin(n) for n in (None, 0, 1, 49, 50, 249, 250, 999, 1000)] == [
        "(none)",
        "(none)",
        "1-49",
        "1-49",
        "50-249",
        "50-249",
        "250-999",
        "250-999",
        "1000+",
    ]


def test_features_of_a_lead_and_their_labels():
    features = lead_features(
        LeadFacts(segment="smb", has_website=True, activity_counts={"demo": 2, "call": 0})
    )
    assert features["segment=smb"] == 1.0
    assert features["website=yes"] == 1.0 and features["phone=no"] == 1.0
    assert features["industry=(none)"] == 1.0
    assert features["activity:demo"] == pytest.approx(math.log(3))
    assert "activity:call" not in features
    assert feature_label("industry=(none)") == "Industry: unknown"
    assert feature_label("channel=web_form") == "Channel: Web form"
