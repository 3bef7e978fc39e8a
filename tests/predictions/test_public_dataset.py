"""The pipeline on a public lead-scoring dataset (X Education, 9,240 leads with a converted flag).

Its columns are mapped to the features a LeadTrack lead has: origin and source → channel and
industry-like categories, occupation → seniority-like category, visits and time on site → activity
counts. Read from ../shared/data (never copied into the project); skipped when it is absent.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from funnel.predictions.features import LeadFacts, lead_features
from funnel.predictions.training import Sample, train

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "x-education-lead-scoring" / "Leads.csv"
DATA_FALLBACK = Path("/work/shared/data/x-education-lead-scoring/Leads.csv")


def _path() -> Path | None:
    for path in (DATA, DATA_FALLBACK):
        if path.exists():
            return path
    return None


def _blank(value: str) -> str:
    value = (value or "").strip()
    return "" if value in ("", "Select") else value


def _count(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return 0


def load_samples(path: Path) -> list[Sample]:
    samples = []
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["Lead Number"]))
    for index, row in enumerate(rows):
        facts = LeadFacts(
            industry=_blank(row["Specialization"]),
            segment=_blank(row["Lead Origin"]),
            region=_blank(row["City"]),
            channel=_blank(row["Lead Source"]).lower(),
            job_title=_blank(row["What is your current occupation"]),
            has_phone=row["Do Not Call"] == "No",
            has_website=row["Do Not Email"] == "No",
            activity_counts={
                "page_visit": _count(row["TotalVisits"]),
                # Minutes on the website, as a count of "minutes engaged".
                "web_form": _count(row["Total Time Spent on Website"]) // 60,
                f"last:{_blank(row['Last Activity']) or 'none'}": 1,
            },
        )
        # The file has no dates: Lead Number order stands for time (the holdout is its last quarter).
        samples.append(
            Sample(lead_features(facts), row["Converted"] == "1", start + timedelta(minutes=index))
        )
    return samples


@pytest.mark.skipif(_path() is None, reason="../shared/data/x-education-lead-scoring is absent")
def test_it_trains_and_evaluates_on_the_public_dataset(capsys):
    samples = load_samples(_path())
    result = train(samples)
    fitted = len(samples) - result.holdout_count
    with capsys.disabled():
        print(
            f"\nX Education: {len(samples)} leads ({result.won} converted); CV AUC {result.cv_auc:.3f} "
            f"± {result.cv_auc_std:.3f} ({result.cv_folds}-fold on the older {fitted}); "
            f"holdout AUC {result.holdout_auc:.3f} (latest {result.holdout_count})"
        )
        for row in result.calibration:
            print(
                f"  {row['low']:.0%}-{row['high']:.0%}: n={row['n']} mean predicted="
                f"{row['mean_predicted'] or 0:.3f} observed={row['observed'] or 0:.3f}"
            )
    assert len(samples) == 9240
    assert result.cv_auc > 0.8
    assert result.holdout_auc > 0.8
    # Calibrated where it matters: in every band with 100+ leads, observed within 10 points of predicted.
    for row in result.calibration:
        if row["n"] >= 100:
            assert abs(row["observed"] - row["mean_predicted"]) < 0.10
