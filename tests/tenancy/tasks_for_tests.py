"""A task used by the Celery isolation test: reports what the task body can see."""

from django.db import connection

from leadtrack.celery import app
from leadtrack.tenancy.models import Membership
from leadtrack.tenancy.tasks import OrgTask


@app.task(base=OrgTask, name="tests.tenancy.visible_memberships")
def visible_memberships(*, organization_id: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT organization_id FROM tenancy_membership")
        raw = sorted(row[0] for row in cursor.fetchall())
    return {"orm": sorted(Membership.objects.values_list("user__email", flat=True)), "raw": raw}


@app.task(name="tests.tenancy.visible_without_tenant")
def visible_without_tenant() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_membership")
        return cursor.fetchone()[0]
