"""A second, read-only row-level security policy on attribution_emailendpoint: the row whose
key an inbound post presents (``app.email_endpoint_key``) is visible before any organization
is active (the same pattern as api_apikey's api_key_lookup).

PostgreSQL ORs permissive policies, so this adds exactly that one row to what the tenant
policy (installed after migrate by leadtrack/tenancy/db.py) shows; writes still need the
organization.
"""

from django.db import migrations

POLICY = """
CREATE POLICY email_endpoint_lookup ON attribution_emailendpoint FOR SELECT
USING (key = nullif(current_setting('app.email_endpoint_key', true), ''))
"""


class Migration(migrations.Migration):
    dependencies = [("attribution", "0001_initial")]

    operations = [
        migrations.RunSQL(
            POLICY, reverse_sql="DROP POLICY IF EXISTS email_endpoint_lookup ON attribution_emailendpoint"
        ),
    ]
