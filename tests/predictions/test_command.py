"""evaluate_predictions: figures on an organization's history, refusals in plain words."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_it_prints_cross_validated_auc_and_calibration(org, history_factory):
    history = history_factory(org, closed=200)
    out = StringIO()
    call_command("evaluate_predictions", "--org", org.slug, stdout=out)
    text = out.getvalue()
    assert (
        f"{history.won} won, {history.lost + history.disqualified} lost or disqualified (features: all)"
        in text
    )
    assert "Cross-validated AUC (5-fold, older 150 leads): 0." in text
    assert "Holdout AUC (latest 50 closed leads): 0." in text
    assert text.count("%-") == 5  # five calibration bands


def test_the_fields_only_ablation(org, history_factory):
    history_factory(org, closed=200)
    out = StringIO()
    call_command("evaluate_predictions", "--org", org.slug, "--features", "fields", stdout=out)
    assert "(features: fields)" in out.getvalue()


def test_it_refuses_without_enough_history_or_organization(org, history_factory):
    history_factory(org, closed=10)
    with pytest.raises(CommandError, match="Not enough history: 10 closed, need 40"):
        call_command("evaluate_predictions", "--org", org.slug, stdout=StringIO())
    with pytest.raises(CommandError, match="No organization"):
        call_command("evaluate_predictions", "--org", "nope", stdout=StringIO())
