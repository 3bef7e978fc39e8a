"""A second, read-only row-level security policy on api_apikey: the row whose prefix the
request presents (``app.api_key_prefix``) is visible before any organization is active.

PostgreSQL ORs permissive policies, so this adds exactly that one row to what the
tenant policy (installed by leadtrack/tenancy/db.py after migrate) shows; writes
still need the organization.
"""

from django.db import migrations

POLICY = """
CREATE POLICY api_key_lookup ON api_apikey FOR SELECT
USING (prefix = nullif(current_setting('app.api_key_prefix', true), ''))
"""


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.RunSQL(POLICY, reverse_sql="DROP POLICY IF EXISTS api_key_lookup ON api_apikey"),
    ]
