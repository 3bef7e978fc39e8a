"""Import jobs run in Celery, one committed step per task so progress is visible and a killed worker
loses at most the chunk it was writing (rolled back, then redelivered: acks_late)."""

from __future__ import annotations

from leads.imports.services import import_job_run_step
from leadtrack.celery import app
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.tasks import OrgTask


@app.task(base=OrgTask, name="leads.import_job_run")
def import_job_run(*, organization_id: int, job_id: int) -> None:
    if import_job_run_step(org=current_organization(), job_id=job_id):
        import_job_run.delay_on_commit(organization_id=organization_id, job_id=job_id)
