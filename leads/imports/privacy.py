"""Personal data held by lead imports: the uploaded file (kept in ImportJob.content) and the
raw cells of rows that failed. Registered with the privacy registry.

Erasure drops the stored file of every job with a row naming the subject (content emptied,
checksum cleared; the job's counts and mapping stay), rather than rewriting it without that
row: an imported file has no use after its import, and a rewritten workbook would be a file
nobody uploaded. A job that had not finished is marked failed, because its file is gone.
Row errors naming the subject are deleted.
"""

from __future__ import annotations

from typing import Any

from leads.imports.parsing import ImportFileError
from leads.imports.services import job_table
from leads.models import ImportJob, ImportRowError
from leadtrack.privacy.registry import Subject, register, scrub_text

FILE_REMOVED = "The uploaded file was removed by a data-subject erasure."


def _rows_naming(job: ImportJob, subject: Subject) -> list[tuple[int, list[Any]]]:
    table = job_table(job)
    if table.file_format == "csv" and not subject.names_in(
        bytes(job.content).decode(table.encoding or "utf-8", "replace")
    ):
        return []  # the fast path: most files never mention the subject
    try:
        return [
            (number, ["" if cell is None else str(cell) for cell in cells])
            for number, cells in table.rows()
            if any(subject.names_in(str(cell)) for cell in cells if cell not in (None, ""))
        ]
    except (ImportFileError, ValueError):
        return []


def _jobs_naming(subject: Subject) -> list[tuple[ImportJob, list[tuple[int, list[Any]]]]]:
    if not subject.identifiers:
        return []
    jobs = ImportJob.objects.filter(organization=subject.organization).exclude(content=b"").order_by("pk")
    found = []
    for job in jobs:
        rows = _rows_naming(job, subject)
        if rows or subject.names_in(job.file_name):
            found.append((job, rows))
    return found


def _row_errors(subject: Subject) -> list[ImportRowError]:
    if not subject.identifiers:
        return []
    errors = ImportRowError.objects.filter(organization=subject.organization).order_by("job_id", "row_number")
    return [error for error in errors if subject.names_in(f"{error.raw} {error.message}")]


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    return {
        "import_rows": [
            {
                "job_id": job.pk,
                "file_name": job.file_name,
                "uploaded_at": job.created_at,
                "headers": job.options.get("headers", []),
                "row_number": number,
                "cells": cells,
            }
            for job, rows in _jobs_naming(subject)
            for number, cells in rows
        ],
        "import_row_errors": [
            {
                "job_id": error.job_id,
                "row_number": error.row_number,
                "column": error.column,
                "message": error.message,
                "raw": error.raw,
            }
            for error in _row_errors(subject)
        ],
    }


def _erase(subject: Subject) -> dict[str, int]:
    row_errors = ImportRowError.objects.filter(
        organization=subject.organization, pk__in=[error.pk for error in _row_errors(subject)]
    ).delete()[0]
    files = 0
    for job, _rows in _jobs_naming(subject):
        values: dict[str, Any] = {
            "content": b"",
            "content_sha256": "",
            "file_name": scrub_text(job.file_name, subject.identifiers),
        }
        if job.status not in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            values.update(status=ImportJob.Status.FAILED, failure=FILE_REMOVED)
        ImportJob.objects.filter(organization=subject.organization, pk=job.pk).update(**values)
        files += 1
    return {"import_files_dropped": files, "import_row_errors": row_errors}


register(
    "imports",
    export=_export,
    erase=_erase,
    order=40,
    description=(
        "Uploaded import files (dropped when a row names the subject) and failed rows' raw cells (deleted)."
    ),
)
