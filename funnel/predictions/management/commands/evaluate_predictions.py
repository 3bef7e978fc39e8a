"""Evaluate the predictive score on one organization's closed history, without saving anything."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from funnel.predictions import selectors, services
from funnel.predictions.features import ACTIVITY_PREFIX
from funnel.predictions.training import Sample, train
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization


def calibration_lines(calibration: list[dict]) -> list[str]:
    lines = [f"  {'predicted':<12}{'leads':>7}{'mean predicted':>16}{'observed':>10}"]
    for row in calibration:
        band = f"{row['low']:.0%}-{row['high']:.0%}"
        mean = "—" if row["mean_predicted"] is None else f"{row['mean_predicted']:.1%}"
        observed = "—" if row["observed"] is None else f"{row['observed']:.1%}"
        lines.append(f"  {band:<12}{row['n']:>7}{mean:>16}{observed:>10}")
    return lines


def _keep(features: dict[str, float], which: str) -> dict[str, float]:
    if which == "all":
        return dict(features)
    activities = which == "activities"
    return {name: value for name, value in features.items() if name.startswith(ACTIVITY_PREFIX) == activities}


class Command(BaseCommand):
    help = (
        "Print cross-validated AUC, holdout AUC and calibration of the predictive score on an organization."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument(
            "--features",
            choices=("all", "fields", "activities"),
            default="all",
            help="Evaluate with the lead's fields only or its activity counts only (ablation); default all.",
        )

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        with tenant_context(organization):
            history = selectors.history_get(org=organization)
            if not history.enough:
                raise CommandError(history.message)
            samples = [
                Sample(_keep(sample.features, options["features"]), sample.won, sample.closed_at)
                for sample in services.training_samples(org=organization)
            ]
            result = train(samples)
        fitted = result.won + result.lost - result.holdout_count
        fmt = lambda value: "—" if value is None else f"{value:.3f}"  # noqa: E731
        self.stdout.write(
            f"Organization {organization.slug}: {result.won} won, {result.lost} lost or disqualified "
            f"(features: {options['features']})"
        )
        self.stdout.write(
            f"Cross-validated AUC ({result.cv_folds}-fold, older {fitted} leads): "
            f"{fmt(result.cv_auc)} ± {fmt(result.cv_auc_std)}"
        )
        self.stdout.write(
            f"Holdout AUC (latest {result.holdout_count} closed leads): {fmt(result.holdout_auc)}"
        )
        self.stdout.write("Calibration (out-of-fold predictions):")
        for line in calibration_lines(result.calibration):
            self.stdout.write(line)
