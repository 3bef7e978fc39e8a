"""The builder: the form's settings, one row per lead field, and rows for custom fields."""

from __future__ import annotations

import re

from django import forms

from capture.forms import fields as catalog
from capture.forms.models import LeadForm
from leads.models import Campaign, Source
from leadtrack.tenancy.models import Organization

_CUSTOM_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class FormSettingsForm(forms.Form):
    name = forms.CharField(max_length=100)
    is_active = forms.BooleanField(required=False, initial=True, label="Active (accepts submissions)")
    submit_label = forms.CharField(max_length=60, initial="Send", label="Button text")
    source = forms.ModelChoiceField(
        queryset=Source.unscoped.none(),
        required=False,
        empty_label="Web form (created when needed)",
        help_text="New leads are filed under this source.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.unscoped.none(), required=False, empty_label="No campaign"
    )
    thank_you_message = forms.CharField(
        max_length=1000,
        initial="Thank you! We will be in touch soon.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redirect_url = forms.URLField(
        required=False,
        max_length=500,
        label="Redirect URL",
        assume_scheme="https",
        help_text="Instead of the thank-you message, send the visitor to this page.",
    )
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Allowed sites",
        help_text="One origin per line (https://www.example.com). The script embed works only on these "
        "sites; when any is listed, only they may post the form or frame it.",
    )
    consent_enabled = forms.BooleanField(required=False, label="Ask for consent (checkbox)")
    consent_required = forms.BooleanField(required=False, initial=True, label="Consent is required")
    consent_text = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown beside the checkbox and stored, word for word, with each submission.",
    )
    double_opt_in = forms.BooleanField(
        required=False,
        label="Double opt-in",
        help_text="The lead is created once the person confirms by e-mail.",
    )
    min_seconds_to_submit = forms.IntegerField(
        min_value=0,
        max_value=600,
        initial=3,
        label="Minimum seconds to submit",
        help_text="Posts sooner than this after the script or iframe rendered the form are spam.",
    )

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(organization=org).order_by("name")
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=org).order_by("name")

    def clean_allowed_origins(self) -> list[str]:
        from capture.forms.services import normalize_origin

        origins = []
        for line in self.cleaned_data["allowed_origins"].splitlines():
            if line.strip():
                try:
                    origins.append(normalize_origin(line))
                except forms.ValidationError as exc:
                    raise forms.ValidationError(exc.messages) from exc
        return origins

    @staticmethod
    def initial_for(form: LeadForm) -> dict:
        initial = {name: getattr(form, name) for name in SETTINGS_FIELDS}
        initial["allowed_origins"] = "\n".join(form.allowed_origins)
        return initial


SETTINGS_FIELDS = (
    "name",
    "is_active",
    "submit_label",
    "source",
    "campaign",
    "thank_you_message",
    "redirect_url",
    "allowed_origins",
    "consent_enabled",
    "consent_required",
    "consent_text",
    "double_opt_in",
    "min_seconds_to_submit",
)


class LeadFieldRow(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    include = forms.BooleanField(required=False)
    required = forms.BooleanField(required=False)
    label = forms.CharField(max_length=100, required=False)
    order = forms.IntegerField(required=False, min_value=0, max_value=99)

    def clean_name(self) -> str:
        if self.cleaned_data["name"] not in catalog.LEAD_FIELDS_BY_NAME:
            raise forms.ValidationError("Unknown lead field.")
        return self.cleaned_data["name"]


class CustomFieldRow(forms.Form):
    name = forms.CharField(max_length=40, required=False, help_text="lower_case_name")
    label = forms.CharField(max_length=100, required=False)
    required = forms.BooleanField(required=False)
    order = forms.IntegerField(required=False, min_value=0, max_value=99)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip().lower()
        if not name:
            return ""
        if not _CUSTOM_NAME.fullmatch(name):
            raise forms.ValidationError("Use lower-case letters, digits and _, starting with a letter.")
        if name in catalog.RESERVED_NAMES:
            raise forms.ValidationError("This name is reserved; map the lead field instead or pick another.")
        return name


LeadFieldFormSet = forms.formset_factory(LeadFieldRow, extra=0)
CustomFieldFormSet = forms.formset_factory(
    CustomFieldRow, extra=3, max_num=catalog.CUSTOM_FIELD_LIMIT, validate_max=True
)


def lead_field_initial(form: LeadForm | None) -> list[dict]:
    chosen = {
        entry["name"]: (i, entry)
        for i, entry in enumerate(form.fields if form else [])
        if not entry.get("custom")
    }
    defaults = {"contact_name": True, "email": True, "company": True}
    rows = []
    for position, spec in enumerate(catalog.LEAD_FIELDS):
        index, entry = chosen.get(spec.name, (None, None))
        if form is None:
            rows.append(
                {
                    "name": spec.name,
                    "include": spec.name in defaults,
                    "required": spec.name == "email",
                    "label": spec.label,
                    "order": position,
                }
            )
        else:
            rows.append(
                {
                    "name": spec.name,
                    "include": entry is not None,
                    "required": bool(entry and entry.get("required")),
                    "label": (entry or {}).get("label") or spec.label,
                    "order": index if index is not None else position + 20,
                }
            )
    return rows


def custom_field_initial(form: LeadForm | None) -> list[dict]:
    if form is None:
        return []
    return [
        {"name": e["name"], "label": e.get("label", ""), "required": bool(e.get("required")), "order": i}
        for i, e in enumerate(form.fields)
        if e.get("custom")
    ]


def fields_from_rows(lead_rows: LeadFieldFormSet, custom_rows: CustomFieldFormSet) -> list[dict]:
    """The builder's rows → the ordered field list a LeadForm stores."""
    entries = []
    for index, row in enumerate(lead_rows.cleaned_data):
        if row.get("include"):
            spec = catalog.LEAD_FIELDS_BY_NAME[row["name"]]
            entry = {
                "name": spec.name,
                "label": row.get("label") or spec.label,
                "required": bool(row.get("required")),
                "custom": False,
            }
            entries.append((row.get("order") if row.get("order") is not None else index, index, entry))
    for index, row in enumerate(custom_rows.cleaned_data):
        if row.get("name"):
            entry = {
                "name": row["name"],
                "label": row.get("label") or row["name"],
                "required": bool(row.get("required")),
                "custom": True,
            }
            order = row.get("order") if row.get("order") is not None else 50 + index
            entries.append((order, 100 + index, entry))
    return [entry for _, _, entry in sorted(entries, key=lambda item: (item[0], item[1]))]
