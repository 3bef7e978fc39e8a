"""The form builder's pages (``forms.manage``): list, build, snippets, submissions.

Thin: parse the builder, call ``services.form_save``, render. Another organization's
form is never found (scoped reads) and answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from capture.forms import fields as catalog
from capture.forms import selectors, services
from capture.forms.forms import (
    SETTINGS_FIELDS,
    CustomFieldFormSet,
    FormSettingsForm,
    LeadFieldFormSet,
    custom_field_initial,
    fields_from_rows,
    lead_field_initial,
)
from capture.forms.models import LeadForm, SubmissionStatus
from leadtrack.tenancy.permissions import org_permission_required


def not_found_as_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except LeadForm.DoesNotExist as exc:
            raise Http404("No such form") from exc

    return wrapped


def embed_snippets(request: HttpRequest, form: LeadForm) -> dict[str, str]:
    """The three ways to put the form on a site, as text to copy."""
    post_url = request.build_absolute_uri(reverse("webforms_post", kwargs={"key": form.key}))
    script_url = request.build_absolute_uri(reverse("webforms_script", kwargs={"key": form.key}))
    embed_url = request.build_absolute_uri(reverse("webforms_embed", kwargs={"key": form.key}))
    html = render_to_string(
        "webforms/_snippet_html.html",
        {
            "lead_form": form,
            "action": post_url,
            "fields": catalog.render_fields(form.fields, values={}, errors={}),
            "tracking": list(catalog.TRACKING_FIELDS),
            "honeypot": catalog.HONEYPOT_FIELD,
        },
    ).strip()
    return {
        "html": html,
        "script": (
            f'<div data-leadtrack-embed="{form.key}"></div>\n<script src="{script_url}" defer></script>'
        ),
        "iframe": (
            f'<iframe src="{embed_url}" title="{escape(form.name)}" width="100%" height="640" '
            'style="border:0" loading="lazy"></iframe>'
        ),
    }


@org_permission_required("forms.manage")
def form_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "webforms/form_list.html", {"forms": selectors.form_list(org=request.organization)}
    )


def _builder(request: HttpRequest, form: LeadForm | None) -> HttpResponse:
    org = request.organization
    data = request.POST if request.method == "POST" else None
    initial = FormSettingsForm.initial_for(form) if form else None
    settings_form = FormSettingsForm(data, org=org, initial=initial)
    lead_rows = LeadFieldFormSet(data, prefix="lead", initial=lead_field_initial(form))
    custom_rows = CustomFieldFormSet(data, prefix="custom", initial=custom_field_initial(form))
    if data is not None and settings_form.is_valid() and lead_rows.is_valid() and custom_rows.is_valid():
        values = {name: settings_form.cleaned_data[name] for name in SETTINGS_FIELDS}
        values["fields"] = fields_from_rows(lead_rows, custom_rows)
        try:
            saved = services.form_save(org=org, actor=request.user, form=form, data=values)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                settings_form.add_error(field if field in settings_form.fields else None, errors)
        else:
            messages.success(request, f"Saved the form “{saved.name}”.")
            return redirect("webforms_detail", org_slug=org.slug, form_id=saved.pk)
    return render(
        request,
        "webforms/form_builder.html",
        {
            "lead_form": form,
            "form": settings_form,
            "lead_rows": lead_rows,
            "custom_rows": custom_rows,
            "lead_specs": catalog.LEAD_FIELDS_BY_NAME,
        },
    )


@org_permission_required("forms.manage")
def form_create(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


@org_permission_required("forms.manage")
@not_found_as_404
def form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    return _builder(request, selectors.form_get(org=request.organization, form_id=form_id))


@org_permission_required("forms.manage")
@not_found_as_404
def form_detail(request: HttpRequest, form_id: int) -> HttpResponse:
    form = selectors.form_get(org=request.organization, form_id=form_id)
    return render(
        request,
        "webforms/form_detail.html",
        {
            "lead_form": form,
            "snippets": embed_snippets(request, form),
            "recent": selectors.submission_list(org=request.organization, form=form)[:10],
        },
    )


@org_permission_required("forms.manage")
@not_found_as_404
def submission_list(request: HttpRequest, form_id: int) -> HttpResponse:
    form = selectors.form_get(org=request.organization, form_id=form_id)
    status = request.GET.get("status", "")
    if status not in SubmissionStatus.values:
        status = ""
    return render(
        request,
        "webforms/submission_list.html",
        {
            "lead_form": form,
            "submissions": selectors.submission_list(org=request.organization, form=form, status=status)[
                :500
            ],
            "status": status,
            "statuses": SubmissionStatus.choices,
        },
    )
