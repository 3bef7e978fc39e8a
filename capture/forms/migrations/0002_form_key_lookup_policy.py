"""A second, read-only row-level security policy on webforms_leadform: the row whose key a
public request presents (``app.form_key``) is visible before any organization is active.

The same pattern as the API keys' lookup (api 0002): PostgreSQL ORs permissive policies,
so this adds exactly that one row to what the tenant policy (leadtrack/tenancy/db.py)
shows; writes still need the organization.
"""

from django.db import migrations

POLICY = """
CREATE POLICY webforms_form_key_lookup ON webforms_leadform FOR SELECT
USING (key = nullif(current_setting('app.form_key', true), ''))
"""


class Migration(migrations.Migration):
    dependencies = [("webforms", "0001_initial")]

    operations = [
        migrations.RunSQL(
            POLICY, reverse_sql="DROP POLICY IF EXISTS webforms_form_key_lookup ON webforms_leadform"
        ),
    ]
