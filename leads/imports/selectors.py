"""Reads of import jobs, always within the active organization (another tenant's job is DoesNotExist)."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.db.models import QuerySet

from leads.imports.services import job_table
from leads.models import ImportJob, ImportRowError
from leadtrack.tenancy.models import Organization

ACTIVE_STATUSES = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def import_job_list(*, org: Organization, limit: int = 20) -> QuerySet[ImportJob]:
    return (
        ImportJob.objects.filter(organization=org)
        .defer("content")
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def import_job_get(*, org: Organization, job_id: int) -> ImportJob:
    """Raises ImportJob.DoesNotExist (→ 404) for an unknown or another organization's job."""
    return ImportJob.objects.select_related("created_by").get(organization=org, pk=job_id)


def import_job_samples(*, job: ImportJob, rows: int = 5) -> list[str]:
    """For each column, the first non-blank value among the first ``rows`` data rows."""
    samples = [""] * len(job.options["headers"])
    for _, cells in islice(job_table(job).rows(), rows):
        for index, cell in enumerate(cells[: len(samples)]):
            if not samples[index] and cell not in (None, ""):
                samples[index] = str(cell)
    return samples


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    percent = 100 if job.status == ImportJob.Status.DONE else 0
    if job.total_rows and job.status != ImportJob.Status.DONE:
        percent = min(99, job.processed_rows * 100 // job.total_rows)
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.status not in ACTIVE_STATUSES,
        "percent": percent,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "duplicates": job.duplicate_count,
        "errors": job.error_count,
        "failure": job.failure,
    }


def import_job_errors(*, org: Organization, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(organization=org, job=job).order_by("row_number", "id")
