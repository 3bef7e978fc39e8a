"""The chunks of one import job imported side by side, as the worker's processes do (real commits,
one database connection per thread): the counts add up, and a chunk delivered twice at once is
imported once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Count

from leads.imports import services
from leads.imports.services import import_job_create, import_job_run_step
from leads.models import ImportJob, Lead, Source
from leadtrack.tenancy.context import tenant_context
from tests.leads.imports.helpers import csv_bytes

ROWS = services.FAST_PATH_MIN_ROWS + 100  # the set-based path, as a real file's chunks take
CHUNK_ROWS = ROWS // 2


def _started_job(org, mike, monkeypatch, *, sources=None) -> ImportJob:
    monkeypatch.setattr(services, "BULK_CHUNK_ROWS", CHUNK_ROWS)
    sources = sources or (lambda n: "")
    rows = [[f"Parallel {n}", f"p{n}@parallel{n}.example", "DE", sources(n)] for n in range(ROWS)]
    content = csv_bytes(["Company", "Email", "Country", "Lead source"], rows)
    with tenant_context(org):
        job = import_job_create(org=org, actor=mike, file_name="p.csv", content=content)
        # Queued as import_job_start does, without its task (which would run the whole job here).
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    with tenant_context(org):
        assert import_job_run_step(org=org, job_id=job.pk)  # counted the rows: two chunks left
        job.refresh_from_db()
    assert services.import_job_chunks_left(job) == [0, 1]
    return job


def _side_by_side(org, job: ImportJob, chunks: list[int]) -> list[bool | str]:
    """Each chunk in its own thread and transaction, all started together."""
    barrier = threading.Barrier(len(chunks))
    outcomes: list[bool | str] = [False] * len(chunks)

    def run(position: int) -> None:
        try:
            barrier.wait()
            with tenant_context(org):
                outcomes[position] = import_job_run_step(org=org, job_id=job.pk, chunk=chunks[position])
        except Exception as exc:  # reported in the assertion, not lost in the thread
            outcomes[position] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(position,)) for position in range(len(chunks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_chunks_imported_side_by_side_add_up_to_the_whole_file(org, mike, monkeypatch):
    job = _started_job(org, mike, monkeypatch)
    outcomes = _side_by_side(org, job, [0, 1])
    with tenant_context(org):
        job.refresh_from_db()
        leads = Lead.objects.count()
    print(f"\n[import] chunks side by side=2 rows={ROWS} leads={leads} created={job.created_count}")
    assert all(isinstance(outcome, bool) for outcome in outcomes), outcomes
    assert (job.status, job.options["chunks_done"], job.processed_rows) == ("done", [0, 1], ROWS)
    assert (job.created_count, job.error_count, leads) == (ROWS, 0, ROWS)
    assert job.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_chunk_delivered_twice_at_once_is_imported_once(org, mike, monkeypatch):
    job = _started_job(org, mike, monkeypatch)
    outcomes = _side_by_side(org, job, [0, 0])
    with tenant_context(org):
        job.refresh_from_db()
        leads = Lead.objects.count()
        failures = job.failure
    print(f"\n[import] one chunk delivered=2 at once leads={leads} created={job.created_count}")
    # Both deliveries answer "chunks left" (chunk 1); neither fails on the other's rows.
    assert outcomes == [True, True], (outcomes, failures)
    assert (job.status, job.options["chunks_done"], job.processed_rows) == ("running", [0], CHUNK_ROWS)
    assert (job.created_count, job.duplicate_count, leads) == (CHUNK_ROWS, 0, CHUNK_ROWS)
    with tenant_context(org):
        assert import_job_run_step(org=org, job_id=job.pk) is False  # chunk 1, then nothing left
        job.refresh_from_db()
        assert (job.status, job.created_count, Lead.objects.count()) == ("done", ROWS, ROWS)


@pytest.mark.django_db(transaction=True)
def test_chunks_naming_the_same_new_sources_in_opposite_orders_both_import(org, mike, monkeypatch):
    # Chunk 0 names "Fair B" first, chunk 1 "Fair A" first. The second chunk to create a name waits
    # for the first one's commit; both then finish, and each source exists once.
    def source(n: int) -> str:
        first, second = ("Fair B", "Fair A") if n < CHUNK_ROWS else ("Fair A", "Fair B")
        return first if n % CHUNK_ROWS < CHUNK_ROWS // 2 else second

    job = _started_job(org, mike, monkeypatch, sources=source)
    outcomes = _side_by_side(org, job, [0, 1])
    with tenant_context(org):
        job.refresh_from_db()
        names = sorted(Source.objects.filter(name__startswith="Fair").values_list("name", flat=True))
        per_source = dict(
            Lead.objects.values_list("source__name").annotate(n=Count("id")).values_list("source__name", "n")
        )
    assert all(isinstance(outcome, bool) for outcome in outcomes), (outcomes, job.failure)
    assert (job.status, job.created_count, job.error_count) == ("done", ROWS, 0)
    assert names == ["Fair A", "Fair B"]
    assert per_source == {"Fair A": ROWS // 2, "Fair B": ROWS // 2}
    assert job.options["created_names"]["source"] == ["Fair A", "Fair B"]


def test_a_batch_creates_its_new_names_in_one_order_whatever_the_rows_order(org, mike):
    # Processes have their own string hashing, so set order differs between a worker's processes;
    # the cycle above needs two processes. What prevents it is this order, the same in every one.
    names = [f"Fair {letter}" for letter in "FEDCBA"]
    rows = [
        {"company": f"Ordered {n}", "email": f"o{n}@ordered{n}.example", "source": names[n % len(names)]}
        for n in range(services.FAST_PATH_MIN_ROWS)
    ]
    with tenant_context(org):
        results = services.leads_upsert_bulk(org=org, actor=mike, rows=rows, via="import")
        created_order = list(
            Source.objects.filter(name__startswith="Fair ").order_by("pk").values_list("name", flat=True)
        )
    assert {result.status for result in results} == {"created"}
    assert created_order == sorted(names)
