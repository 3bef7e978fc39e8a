"""The model page (current model, versions, forecast beside actual) and "retrain now"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from funnel.predictions import selectors, services
from funnel.predictions.method import CV_FOLDS, HOLDOUT_SHARE, REGULARIZATION_C
from leadtrack.tenancy.permissions import org_permission_required
from reports.metrics import metric_get


@require_GET
@org_permission_required("dashboards.view")
def model_overview(request: HttpRequest) -> HttpResponse:
    org = request.organization
    expected, scored = selectors.expected_wins_now(org=org)
    forecasts = selectors.forecast_rows(org=org)
    forecast_metric, actual_metric = metric_get("forecasted_win_rate"), metric_get("forecast_actual_win_rate")
    context = {
        "model": selectors.active_model_get(org=org),
        "history": selectors.history_get(org=org),
        "versions": selectors.model_history(org=org),
        "runs": selectors.training_runs(org=org),
        "expected_wins": expected,
        "scored_open_leads": scored,
        "forecasts": [
            {
                "row": row,
                "forecast_rate": forecast_metric.compute(row.as_measures(), None),
                "actual_rate": actual_metric.compute(row.as_measures(), None),
            }
            for row in forecasts
        ],
        "forecast_metric": forecast_metric,
        "actual_metric": actual_metric,
        "min_closed": selectors.MIN_CLOSED_LEADS,
        "min_per_class": selectors.MIN_PER_CLASS,
        "holdout_percent": round(HOLDOUT_SHARE * 100),
        "cv_folds": CV_FOLDS,
        "regularization": REGULARIZATION_C,
        "retrain_token": services.retrain_token_new(),
    }
    with timezone.override(org.tzinfo):
        return render(request, "predictions/model.html", context)


@require_http_methods(["GET", "POST"])
@org_permission_required("predictions.manage")
def model_retrain(request: HttpRequest) -> HttpResponse:
    """POST: "retrain now". GET (a reload of the URL) goes back to the model page."""
    org = request.organization
    if request.method != "POST":
        return redirect("predictions_model", org_slug=org.slug)
    try:
        run = services.prediction_retrain_request(
            org=org, actor=request.user, token=request.POST.get("token", "")
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.info(
            request, f"Retraining queued ({run.get_status_display().lower()}): this page shows the result."
        )
    return redirect("predictions_model", org_slug=org.slug)
