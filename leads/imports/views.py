"""Import pages (upload → mapping → dry run → run with progress → error report) and the list export."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import exports
from leads.imports import selectors, services
from leads.imports.forms import MappingForm, UploadForm
from leads.imports.parsing import ImportFileError
from leads.models import ImportJob
from leads.selectors import lead_list
from leadtrack.tenancy.permissions import org_permission_required


def _job_or_404(request: HttpRequest, job_id: int) -> ImportJob:
    try:
        return selectors.import_job_get(org=request.organization, job_id=job_id)
    except ImportJob.DoesNotExist as exc:
        raise Http404("No such import") from exc


@require_http_methods(["GET", "POST"])
@org_permission_required("leads.import")
def import_home(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                org=org, actor=request.user, file_name=upload.name, content=upload.read()
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("lead_import_mapping", org_slug=org.slug, job_id=job.pk)
    return render(
        request,
        "leads/imports/home.html",
        {"form": form, "jobs": selectors.import_job_list(org=org)},
        # A refused upload is the client's error: 400 with the reasons in the form.
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@org_permission_required("leads.import")
def import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    org = request.organization
    job = _job_or_404(request, job_id)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect("lead_import_job", org_slug=org.slug, job_id=job.pk)
    initial = {f"column_{index}": target for index, target in job.mapping.items()}
    initial |= {"on_existing": job.options["on_existing"], "allow_history": job.options["allow_history"]}
    form = MappingForm(
        request.POST or None,
        initial=initial,
        headers=job.options["headers"],
        samples=selectors.import_job_samples(job=job),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_set_mapping(
                org=org,
                job_id=job.pk,
                mapping=form.mapping(),
                on_existing=form.cleaned_data["on_existing"],
                allow_history=form.cleaned_data["allow_history"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            return redirect("lead_import_preview", org_slug=org.slug, job_id=job.pk)
    return render(request, "leads/imports/mapping.html", {"job": job, "form": form})


@require_GET
@org_permission_required("leads.import")
def import_preview(request: HttpRequest, job_id: int) -> HttpResponse:
    org = request.organization
    job = _job_or_404(request, job_id)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect("lead_import_job", org_slug=org.slug, job_id=job.pk)
    report = services.import_job_dry_run(org=org, actor=request.user, job_id=job.pk)
    mapped = [target for _, target in sorted((int(i), t) for i, t in job.mapping.items())]
    mapped = [t for t in mapped if t not in ("first_name", "last_name")]
    if any(t in ("first_name", "last_name") for t in job.mapping.values()) and "contact_name" not in mapped:
        mapped.insert(0, "contact_name")
    sample = [(number, [record.get(target, "") for target in mapped]) for number, record in report.sample]
    return render(
        request,
        "leads/imports/preview.html",
        {"job": job, "report": report, "sample_columns": mapped, "sample": sample},
    )


@require_POST
@org_permission_required("leads.import")
def import_run(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    services.import_job_start(org=request.organization, job_id=job.pk)
    return redirect("lead_import_job", org_slug=request.organization.slug, job_id=job.pk)


@require_GET
@org_permission_required("leads.import")
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    return render(
        request,
        "leads/imports/job.html",
        {
            "job": job,
            "progress": selectors.import_job_progress(job=job),
            "errors": selectors.import_job_errors(org=request.organization, job=job)[:100],
            "created_names": {k: v for k, v in job.options.get("created_names", {}).items() if v},
        },
    )


@require_GET
@org_permission_required("leads.import")
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = _job_or_404(request, job_id)
    return JsonResponse(selectors.import_job_progress(job=job))


@require_GET
@org_permission_required("leads.import")
def import_error_report(request: HttpRequest, job_id: int) -> HttpResponse:
    """Failed rows as CSV: row, column, message, then the row's original values (formula-safe)."""
    job = _job_or_404(request, job_id)
    headers = job.options["headers"]
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads the accents right
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "message", *headers])
    for error in selectors.import_job_errors(org=request.organization, job=job):
        cells = [error.column, error.message, *(error.raw.get(header, "") for header in headers)]
        writer.writerow([error.row_number, *(exports.neutralize_formula(cell) for cell in cells)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


def _export_name(request: HttpRequest, extension: str) -> str:
    return f"leads-{request.organization.slug}-{date.today().isoformat()}.{extension}"


@require_GET
@org_permission_required("leads.export")
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    queryset, _ = lead_list(org=request.organization, membership=request.membership, filters=request.GET)
    response = StreamingHttpResponse(
        exports.csv_lines(org=request.organization, queryset=queryset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(request, "csv")}"'
    return response


@require_GET
@org_permission_required("leads.export")
def export_xlsx(request: HttpRequest) -> HttpResponse:
    queryset, _ = lead_list(org=request.organization, membership=request.membership, filters=request.GET)
    response = HttpResponse(
        exports.xlsx_bytes(org=request.organization, queryset=queryset),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(request, "xlsx")}"'
    return response
