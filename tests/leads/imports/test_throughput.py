"""Import throughput, a development figure (make test-slow): rows/s of the per-row service path, the
set-based path, and psycopg2 COPY of the same rows into the same indexed leads table (the reference of
docs/performance.md G5). Prints the figures; asserts only that every row was imported."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from leads.imports.parsing import RowParser
from leads.imports.services import (
    _LEAD_FIELDS,
    _copy_value,
    _lead_row_values,
    _new_lead_defaults,
    leads_upsert,
    leads_upsert_bulk,
)
from leads.models import Lead, Via
from leadtrack.tenancy.context import tenant_context

pytestmark = pytest.mark.slow
ROWS = int(os.environ.get("IMPORT_BENCH_ROWS", "10000"))
# The per-row path does ~13 queries a row: a smaller sample keeps the run short on a shared machine.
SERVICE_ROWS = int(os.environ.get("IMPORT_BENCH_SERVICE_ROWS", "1000"))


def _rows(count: int, tag: str) -> list[dict]:
    return [
        {
            "company": f"Import {i} GmbH",
            "contact_name": f"Person {i}",
            "email": f"person.{i}@{tag}-{i // 3}.example",
            "phone": f"+49 30 {i:07d}",
            "country": "DE",
            "employees": str(20 + i % 900),
            "website": f"https://www.{tag}-{i // 3}.example",
        }
        for i in range(count)
    ]


class _Rollback(Exception):
    pass


def _timed(org, action) -> float:
    """Seconds for ``action`` inside the organization; everything it wrote is rolled back."""
    started = time.perf_counter()
    try:
        with tenant_context(org), transaction.atomic():
            action()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        return elapsed


def test_import_throughput(org, mike):
    with tenant_context(org):
        parser = RowParser(org=org, allow_history=False)
        defaults = _new_lead_defaults(org=org, now=timezone.now())
        prepared = [
            _lead_row_values(defaults=defaults, row=parser.parse(row), name_ids={})
            for row in _rows(ROWS, "copy")
        ]
    names = [f.attname for f in _LEAD_FIELDS if f.attname != "id"]
    columns = ", ".join(f'"{f.column}"' for f in _LEAD_FIELDS if f.attname != "id")
    copy_text = "\n".join(",".join(_copy_value(values[n]) for n in names) for values in prepared) + "\n"

    def copy():
        # PostgreSQL refuses COPY FROM into a table under row-level security, so the reference is a
        # temporary copy of the leads table with all its indexes, constraints and generated column
        # (and no WAL: a stricter reference than the real table).
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE copy_reference (LIKE {Lead._meta.db_table} INCLUDING ALL)"
            )
            cursor.copy_expert(
                f"COPY copy_reference ({columns}) FROM STDIN WITH (FORMAT csv)", io.StringIO(copy_text)
            )
            assert cursor.rowcount == ROWS

    def bulk():
        results = leads_upsert_bulk(org=org, actor=mike, rows=_rows(ROWS, "bulk"), via=Via.IMPORT)
        assert sum(r.status == "created" for r in results) == ROWS

    def service():
        results = leads_upsert(org=org, actor=mike, rows=_rows(SERVICE_ROWS, "svc"), via=Via.IMPORT)
        assert sum(r.status == "created" for r in results) == SERVICE_ROWS

    copy_seconds = _timed(org, copy)
    bulk_seconds = _timed(org, bulk)
    service_seconds = _timed(org, service)
    copy_rate, bulk_rate, service_rate = (
        ROWS / copy_seconds,
        ROWS / bulk_seconds,
        SERVICE_ROWS / service_seconds,
    )
    print(
        f"\n[G5 dev figure, shared 2-core machine] COPY reference ({ROWS:,} rows) {copy_rate:,.0f} rows/s; "
        f"set-based path ({ROWS:,} rows) {bulk_rate:,.0f} rows/s = {bulk_rate / copy_rate:.2f}x COPY; "
        f"per-row service path ({SERVICE_ROWS:,} rows) {service_rate:,.0f} rows/s "
        f"= {service_rate / copy_rate:.3f}x COPY"
    )


def test_import_job_throughput(org, mike):
    """The whole job as the worker runs it (count rows, find repeats in the file, chunks), rows/s
    between the job's started_at and finished_at, as bench/import_product.py reports it."""
    from leads.imports.services import import_job_create, import_job_run_step, import_job_start
    from tests.leads.imports.helpers import csv_bytes

    rows = _rows(ROWS, "job")
    content = csv_bytes(list(rows[0]), [list(row.values()) for row in rows])
    with tenant_context(org):
        job = import_job_create(org=org, actor=mike, file_name="bench.csv", content=content)
        import_job_start(org=org, job_id=job.pk)
        while import_job_run_step(org=org, job_id=job.pk):
            pass
        job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", ROWS)
    seconds = (job.finished_at - job.started_at).total_seconds()
    print(f"\n[G5 dev figure] import job, {ROWS:,} rows: {ROWS / seconds:,.0f} rows/s ({seconds:.1f} s)")
