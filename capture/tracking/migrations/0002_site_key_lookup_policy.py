"""A second, read-only row-level security policy on tracking_trackingsite: the row whose key a
public request presents (``app.tracking_site_key``) is visible before any organization is active.

The same pattern as api_key_lookup (leadtrack/api/migrations/0002): PostgreSQL ORs permissive
policies, so this adds exactly that one row; writes still need the organization.
"""

from django.db import migrations

POLICY = """
CREATE POLICY tracking_site_lookup ON tracking_trackingsite FOR SELECT
USING (key = nullif(current_setting('app.tracking_site_key', true), ''))
"""


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [
        migrations.RunSQL(POLICY, reverse_sql="DROP POLICY IF EXISTS tracking_site_lookup ON tracking_trackingsite"),
    ]
