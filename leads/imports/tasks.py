"""Import jobs run in Celery, one committed step per task so progress is visible and a killed worker
loses at most the chunk it was writing (rolled back, then redelivered: acks_late)."""

from __future__ import annotations

from leads.imports.services import import_job_chunks_left, import_job_run_step
from leads.models import ImportJob
from leadtrack.celery import app
from leadtrack.tenancy.context import current_organization
from leadtrack.tenancy.tasks import OrgTask


@app.task(base=OrgTask, name="leads.import_job_run")
def import_job_run(*, organization_id: int, job_id: int, chunk: int | None = None) -> None:
    """The first step (count rows, find repeats), then one task per chunk: the worker's processes
    import a job's chunks side by side. A redelivered first step imports the next chunk itself and
    fans out the rest again; a chunk queued twice is imported once (import_job_run_step)."""
    org = current_organization()
    if not import_job_run_step(org=org, job_id=job_id, chunk=chunk) or chunk is not None:
        return
    job = ImportJob.objects.defer("content").get(organization=org, pk=job_id)
    for index in import_job_chunks_left(job):
        import_job_run.delay_on_commit(organization_id=organization_id, job_id=job_id, chunk=index)
