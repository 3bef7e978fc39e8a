"""The import pages end to end (Django test client): upload, mapping, dry run, run, progress, report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funnel.models import StageTransition
from leads.imports.services import import_job_run_step, import_job_start
from leads.models import ImportJob, ImportRowError, Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.leads.imports.helpers import SALESFORCE_BAD_ROWS, csv_bytes, salesforce_csv


def _url(name: str, org, job=None) -> str:
    kwargs = {"org_slug": org.slug}
    if job is not None:
        kwargs["job_id"] = job.pk
    return reverse(name, kwargs=kwargs)


def _upload(client, org, content: bytes, name: str = "leads.csv"):
    return client.post(_url("lead_import", org), {"file": SimpleUploadedFile(name, content, "text/csv")})


def _latest_job(org) -> ImportJob:
    with tenant_context(org):
        return ImportJob.objects.order_by("-pk").first()


def _mapping_post(job: ImportJob, **options) -> dict:
    data = {f"column_{index}": target for index, target in job.mapping.items()}
    data["on_existing"] = options.get("on_existing", "skip")
    if options.get("allow_history", job.options["allow_history"]):
        data["allow_history"] = "on"
    return data


def _upload_and_map(client, org, content: bytes, **options) -> ImportJob:
    response = _upload(client, org, content)
    job = _latest_job(org)
    assert response.status_code == 302 and response["Location"] == _url("lead_import_mapping", org, job)
    assert client.get(_url("lead_import_mapping", org, job)).status_code == 200
    response = client.post(_url("lead_import_mapping", org, job), _mapping_post(job, **options))
    assert response.status_code == 302 and response["Location"] == _url("lead_import_preview", org, job)
    return job


def _run(client, org, job, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("lead_import_run", org, job))
    assert response.status_code == 302
    with tenant_context(org):
        job.refresh_from_db()
    return job


def test_a_salesforce_csv_with_three_bad_rows_reports_exactly_those(
    org, mike, login, django_capture_on_commit_callbacks
):
    client = login(mike)
    job = _upload_and_map(client, org, salesforce_csv(1000))
    assert job.options["allow_history"] is True

    preview = client.get(_url("lead_import_preview", org, job))
    assert preview.status_code == 200
    report = preview.context["report"]
    assert [(e.row_number, e.column) for e in report.errors] == [
        (row, column) for row, (column, _) in sorted(SALESFORCE_BAD_ROWS.items())
    ]
    assert (report.total, report.would_create, report.duplicates) == (1000, 997, 0)
    with tenant_context(org):
        assert Lead.objects.count() == 0  # the dry run wrote nothing

    job = _run(client, org, job, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.created_count, job.error_count) == (1000, 1000, 997, 3)
    progress = client.get(_url("lead_import_progress", org, job)).json()
    assert progress["percent"] == 100 and progress["finished"] is True and progress["created"] == 997

    report_csv = client.get(_url("lead_import_errors", org, job))
    assert report_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report_csv.content.decode("utf-8-sig"))))
    assert [(int(r["row"]), r["column"]) for r in rows] == [
        (137, "CreatedDate"),
        (512, "Country"),
        (888, "Email"),
    ]
    assert rows[1]["Country"] == "Atlantis" and "Atlantis" in rows[1]["message"]

    with tenant_context(org):
        qualified = Lead.objects.get(external_id="00Qsf00000050")
        assert qualified.stage == "sql" and qualified.reached_sql_at == qualified.created_at
        assert StageTransition.objects.filter(via="import").count() == 997 + 20


def test_reimporting_the_same_file_creates_no_duplicates(
    org, mike, login, django_capture_on_commit_callbacks
):
    client = login(mike)
    content = salesforce_csv(600, bad={})
    first = _run(client, org, _upload_and_map(client, org, content), django_capture_on_commit_callbacks)
    assert first.created_count == 600

    second = _upload_and_map(client, org, content)
    report = client.get(_url("lead_import_preview", org, second)).context["report"]
    assert (report.would_create, report.duplicates) == (0, 600)
    second = _run(client, org, second, django_capture_on_commit_callbacks)
    assert (second.created_count, second.duplicate_count, second.error_count) == (0, 600, 0)

    third = _run(
        client,
        org,
        _upload_and_map(client, org, content, on_existing="update"),
        django_capture_on_commit_callbacks,
    )
    assert (third.created_count, third.updated_count) == (0, 600)
    with tenant_context(org):
        assert Lead.objects.count() == 600


def test_duplicates_in_the_file_and_of_existing_leads(org, mike, login, django_capture_on_commit_callbacks):
    make_lead(org, company="Already here", email="known@old.example")
    content = csv_bytes(
        ["Company", "Email", "Country", "Created"],
        [
            ["One", "one@one.example", "DE", "2024-01-01"],
            ["Two", "known@old.example", "FR", "2024-01-02"],
            ["Three", "ONE@one.example", "IT", "2024-01-03"],
            ["Four", "four@four.example", "Narnia", "2024-01-04"],
            ["Five", "five@five.example", "ES", "2024-02-30"],
        ],
    )
    client = login(mike)
    job = _upload_and_map(client, org, content)
    report = client.get(_url("lead_import_preview", org, job)).context["report"]
    assert [(e.row_number, e.column) for e in report.errors] == [(3, "Email"), (4, "Country"), (5, "Created")]
    assert report.errors[0].message == "Same e-mail as row 1 of this file."
    assert (report.would_create, report.duplicates) == (1, 1)
    job = _run(client, org, job, django_capture_on_commit_callbacks)
    assert (job.created_count, job.duplicate_count, job.error_count) == (1, 1, 3)


def test_a_run_step_delivered_twice_imports_nothing_twice(org, mike):
    with tenant_context(org, user_id=mike.pk):
        from leads.imports.services import import_job_create, import_job_set_mapping

        job = import_job_create(org=org, actor=mike, file_name="x.csv", content=salesforce_csv(30, bad={}))
        import_job_set_mapping(
            org=org,
            job_id=job.pk,
            mapping={int(k): v for k, v in job.mapping.items()},
            on_existing="skip",
            allow_history=True,
        )
        import_job_start(org=org, job_id=job.pk)
        while import_job_run_step(org=org, job_id=job.pk):
            pass
        assert import_job_run_step(org=org, job_id=job.pk) is False
        import_job_start(org=org, job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.created_count, Lead.objects.count()) == ("done", 30, 30)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"Company,Email\r\n", "no data rows"),
        (b"Company,Contact\r\nAcme,\x81\x8d\x8f\x90\r\n", "neither UTF-8 nor Windows-1252"),
        (b"Company,a=\x00b\r\nAcme,x\r\n", "The name of column 2 contains a null character."),
    ],
)
def test_unreadable_uploads_get_a_form_error(org, mike, login, content, message):
    response = _upload(login(mike), org, content)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])


def test_a_windows_1252_file_shows_the_encoding_notice(org, mike, login):
    client = login(mike)
    _upload(client, org, "Company\r\nCaf\u00e9\r\n".encode("cp1252"))
    job = _latest_job(org)
    assert "Windows-1252" in client.get(_url("lead_import_mapping", org, job)).content.decode()


def test_mapping_a_field_twice_is_a_form_error(org, mike, login):
    client = login(mike)
    _upload(client, org, csv_bytes(["Company", "Firm"], [["A", "B"]]))
    job = _latest_job(org)
    response = client.post(
        _url("lead_import_mapping", org, job),
        {"column_0": "company", "column_1": "company", "on_existing": "skip"},
    )
    assert response.status_code == 200 and "one column only" in response.content.decode()


def test_import_needs_the_import_permission(org, bob, vera, login):
    for user in (bob, vera):
        assert login(user).get(_url("lead_import", org)).status_code == 403


def test_another_organizations_job_is_404_on_every_import_url(
    org, other_org, mike, charlie, login, django_capture_on_commit_callbacks
):
    theirs = _upload_and_map(login(charlie), other_org, salesforce_csv(5, bad={}))
    client = login(mike)
    for name in ("lead_import_job", "lead_import_mapping", "lead_import_preview", "lead_import_progress"):
        assert client.get(_url(name, org, theirs)).status_code == 404, name
    assert client.get(_url("lead_import_errors", org, theirs)).status_code == 404
    assert client.post(_url("lead_import_run", org, theirs)).status_code == 404
    assert client.post(_url("lead_import_mapping", org, theirs), {"on_existing": "skip"}).status_code == 404
    # Nor through their own organization's URLs: Mike is not a member there.
    assert client.get(_url("lead_import_job", other_org, theirs)).status_code == 404
    # The list shows only this organization's jobs.
    assert list(client.get(_url("lead_import", org)).context["jobs"]) == []
    with tenant_context(other_org):
        assert ImportJob.objects.get(pk=theirs.pk).status == "uploaded"
        assert not ImportRowError.objects.exists()


def test_the_job_page_renders_progress_and_the_report_link(
    org, mike, login, django_capture_on_commit_callbacks
):
    client = login(mike)
    content = csv_bytes(["Company", "Country"], [["Good", "DE"], ['=HYPERLINK("http://x")', "Atlantis"]])
    job = _run(client, org, _upload_and_map(client, org, content), django_capture_on_commit_callbacks)
    page = client.get(_url("lead_import_job", org, job)).content.decode()
    assert 'value="100"' in page and _url("lead_import_errors", org, job) in page
    assert "lead_imports.js" in page and "<script>" not in page
    # The error report repeats the original values: formula-safe too.
    report = client.get(_url("lead_import_errors", org, job)).content.decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(report)))
    assert (row["row"], row["column"], row["Company"]) == ("2", "Country", '\'=HYPERLINK("http://x")')


class _WorkerKilled(Exception):
    pass


def test_a_killed_worker_leaves_no_half_written_chunk_and_the_redelivery_resumes(org, mike):
    from django.db import transaction

    from leads.imports.services import import_job_create, import_job_set_mapping

    with tenant_context(org):
        job = import_job_create(org=org, actor=mike, file_name="x.csv", content=salesforce_csv(40, bad={}))
        mapping = {int(k): v for k, v in job.mapping.items()}
        import_job_set_mapping(
            org=org, job_id=job.pk, mapping=mapping, on_existing="skip", allow_history=True
        )
        import_job_start(org=org, job_id=job.pk)
        assert import_job_run_step(org=org, job_id=job.pk)  # counted rows, found no duplicates
        # The worker dies while writing the first chunk: its transaction never commits.
        with pytest.raises(_WorkerKilled), transaction.atomic():
            import_job_run_step(org=org, job_id=job.pk)
            assert Lead.objects.count() == 40
            raise _WorkerKilled
        job.refresh_from_db()
        assert (Lead.objects.count(), job.processed_rows, job.created_count) == (0, 0, 0)
        # The broker redelivers the task (acks_late): the chunk is imported once.
        while import_job_run_step(org=org, job_id=job.pk):
            pass
        job.refresh_from_db()
        assert (job.status, job.created_count, Lead.objects.count()) == ("done", 40, 40)


def test_an_unexpected_failure_marks_the_job_failed_and_keeps_committed_chunks(org, mike, monkeypatch):
    from leads.imports import services
    from leads.imports.services import import_job_create, import_job_set_mapping

    with tenant_context(org):
        job = import_job_create(org=org, actor=mike, file_name="x.csv", content=salesforce_csv(30, bad={}))
        mapping = {int(k): v for k, v in job.mapping.items()}
        import_job_set_mapping(
            org=org, job_id=job.pk, mapping=mapping, on_existing="skip", allow_history=True
        )
        import_job_start(org=org, job_id=job.pk)
        import_job_run_step(org=org, job_id=job.pk)

        def broken(**kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(services, "leads_upsert", broken)
        assert import_job_run_step(org=org, job_id=job.pk) is False
        job.refresh_from_db()
        assert job.status == "failed" and "RuntimeError" in job.failure
        assert Lead.objects.count() == 0 and job.processed_rows == 0


def test_a_10_mb_upload_is_accepted_and_a_larger_one_refused(org, mike, login):
    client = login(mike)
    lines = [f"Company {n},ann{n}@c{n}.example,{'x' * 150}" for n in range(60_000)]
    content = ("Company,Email,Notes\r\n" + "\r\n".join(lines) + "\r\n").encode()
    assert len(content) >= 10 * 1024 * 1024
    response = _upload(client, org, content, name="ten-mb.csv")
    job = _latest_job(org)
    assert response.status_code == 302 and job.file_name == "ten-mb.csv"
    assert {job.options["headers"][int(i)]: t for i, t in job.mapping.items()} == {
        "Company": "company",
        "Email": "email",
        "Notes": "notes",
    }
    response = _upload(client, org, b"Company\r\n" + b"A" * (20 * 1024 * 1024) + b"\r\n", name="huge.csv")
    assert response.status_code == 400 and "larger than 20 MB" in response.content.decode()


def test_an_xlsx_zip_bomb_upload_gets_a_form_error(org, mike, login):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    response = _upload(login(mike), org, buffer.getvalue(), name="bomb.xlsx")
    assert response.status_code == 400 and "refused" in " ".join(response.context["form"].errors["file"])
    with tenant_context(org):
        assert not ImportJob.objects.exists()


def test_a_large_file_dry_run_tries_the_first_rows_and_format_checks_the_rest(
    org, mike, login, monkeypatch, django_capture_on_commit_callbacks
):
    from leads.imports import services

    monkeypatch.setattr(services, "DRY_RUN_FULL_ROWS", 100)
    make_lead(org, company="Existing", email="ann150@company150.example")
    client = login(mike)
    job = _upload_and_map(client, org, salesforce_csv(600))
    page = client.get(_url("lead_import_preview", org, job))
    report = page.context["report"]
    # Format errors are found in every row; the duplicate at row 150 only by the import itself.
    assert [(e.row_number, e.column) for e in report.errors] == [(137, "CreatedDate"), (512, "Country")]
    assert (report.would_create, report.format_checked_only) == (100, 498)
    assert "checked for format errors only" in page.content.decode()
    job = _run(client, org, job, django_capture_on_commit_callbacks)
    assert (job.created_count, job.duplicate_count, job.error_count) == (597, 1, 2)


def test_a_null_character_in_a_cell_is_a_row_error_not_a_failed_job(
    org, mike, login, django_capture_on_commit_callbacks
):
    """PostgreSQL cannot store NUL in text or jsonb: the row is reported (its original cells with
    U+FFFD in place of the NUL) and the rest of the file is imported."""
    content = csv_bytes(
        ["Company", "Email"], [["Good", "good@good.example"], ["Bad\x00Co", "bad@bad.example"]]
    )
    client = login(mike)
    job = _run(client, org, _upload_and_map(client, org, content), django_capture_on_commit_callbacks)
    assert (job.status, job.created_count, job.error_count) == (ImportJob.Status.DONE, 1, 1)
    with tenant_context(org):
        error = ImportRowError.objects.get(job=job)
    assert (error.row_number, error.column, error.message) == (2, "Company", "Contains a null character.")
    assert error.raw["Company"] == "Bad\ufffdCo"
