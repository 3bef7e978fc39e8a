"""An index on leads_lead for the metrics engine: the leads with anything counted since a time.

The dashboards read history from the nightly snapshot and add what counted since it
(reports.queries.event_measures(since=...)): this index finds those few leads without
reading the organization's others. Its expression is reports.queries.LAST_EVENT_AT.
"""

from django.db import migrations

INDEX = "lead_org_last_event_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_snapshotrun_time_zone"),
        ("leads", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"""CREATE INDEX IF NOT EXISTS {INDEX} ON leads_lead (organization_id,
                (greatest(created_at, reached_mql_at, reached_sql_at, reached_opportunity_at, closed_at)));
            ANALYZE leads_lead""",
            f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
