"""One snapshot row per (grain, dimension, value, period) holding every measure, instead of one per metric.

Snapshots are derived data: the old rows are dropped (TRUNCATE, which row-level security
does not filter) rather than converted, and the next recompute rebuilds them. Until then
the dashboards compute every period live (reports.views uses only the periods it finds).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL("TRUNCATE reports_metricsnapshot", reverse_sql=migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="metricsnapshot", name="metric_snapshot_unique"),
        migrations.RemoveField(model_name="metricsnapshot", name="metric"),
        migrations.RemoveField(model_name="metricsnapshot", name="numerator"),
        migrations.RemoveField(model_name="metricsnapshot", name="denominator"),
        migrations.AddField(
            model_name="metricsnapshot",
            name="measures",
            field=models.JSONField(default=dict),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="metricsnapshot",
            constraint=models.UniqueConstraint(
                fields=("organization", "grain", "dimension", "dimension_value", "period_start"),
                name="metric_snapshot_slice_unique",
            ),
        ),
        # Migrating back: the per-slice rows cannot satisfy the per-metric constraint.
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql="TRUNCATE reports_metricsnapshot"),
    ]
