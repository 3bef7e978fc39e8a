"""The product's validated CSV import, timed server side (make bench runs it).

Creates a fresh organization, uploads a CSV of N new leads through the import
services, starts the job and lets the benchmark's Celery worker run it, then
prints one JSON line: rows per second between the job's ``started_at`` and
``finished_at`` (parse, validate, dedupe and write; the upload is excluded).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from leads.imports.services import import_job_create, import_job_start  # noqa: E402
from leads.management.commands.generate_leads import generate_for_org  # noqa: E402
from leads.models import ImportJob  # noqa: E402
from leadtrack.accounts.models import User  # noqa: E402
from leadtrack.tenancy.context import tenant_context  # noqa: E402
from leadtrack.tenancy.models import Organization  # noqa: E402

HEADER = "Company,Contact name,Email,Phone,Country,Employees,Website\n"


def csv_content(rows: int, stamp: int) -> bytes:
    lines = [
        f"Import {i} GmbH,Person {i},person.{i}@imp{stamp}-{i // 3}.example,+49 30 {i:07d},DE,{20 + i % 900},"
        f"https://www.imp{stamp}-{i // 3}.example\n"
        for i in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


def main(rows: int, slug: str, timeout: float) -> dict:
    generate_for_org(slug=slug, leads=0, activities=0, seed=1, chunk=1, password_hash="!", members=1)  # noqa: S106 - "!" = unusable
    org = Organization.objects.get(slug=slug)
    admin = User.objects.get(email=f"admin@{slug}.bench.example")
    content = csv_content(rows, time.time_ns())
    with tenant_context(org):
        job = import_job_create(org=org, actor=admin, file_name="bench.csv", content=content)
    with tenant_context(org):
        import_job_start(org=org, job_id=job.pk)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(org):
            job = ImportJob.objects.get(pk=job.pk)
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
            break
        time.sleep(0.5)
    if job.status != ImportJob.Status.DONE or not job.started_at or not job.finished_at:
        return {"rows_per_second": None, "note": f"job ended {job.status}: {job.failure[:200]}"}
    seconds = (job.finished_at - job.started_at).total_seconds()
    return {
        "rows_per_second": job.created_count / seconds if seconds else None,
        "seconds": seconds,
        "created": job.created_count,
        "errors": job.error_count,
        "note": f"{job.created_count:,} created, {job.error_count} errors in {seconds:.1f} s (Celery worker)",
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]))))
