from __future__ import annotations

from collections.abc import Sequence

from django import forms

from leads.imports.mapping import TARGET_LABELS, skipped_reason
from leads.imports.parsing import MAX_UPLOAD_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel (.xlsx) file",
        help_text=(
            f"Up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Salesforce and HubSpot exports are recognised."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return upload


ON_EXISTING_CHOICES = [
    ("skip", "Skip rows that match an existing lead (report them as duplicates)"),
    ("update", "Update the existing lead (matched on external id, then e-mail)"),
]


class MappingForm(forms.Form):
    """One choice per column of the file: the lead field it fills, or nothing."""

    on_existing = forms.ChoiceField(
        label="Rows that match an existing lead", choices=ON_EXISTING_CHOICES, widget=forms.RadioSelect
    )
    allow_history = forms.BooleanField(
        label="Keep the history in the file (stage, created and stage dates, won/lost reason)",
        required=False,
        help_text="Writes dated stage transitions, so past funnels and reports show from day one.",
    )

    def __init__(self, *args, headers: Sequence[str], samples: Sequence[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        choices = [("", "— not imported —"), *TARGET_LABELS.items()]
        for index, header in enumerate(self.headers):
            sample = samples[index] if index < len(samples) else ""
            help_parts = [f"e.g. “{sample[:60]}”" if sample else "empty in the first rows"]
            if reason := skipped_reason(header):
                help_parts.append(reason)
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, help_text=" · ".join(help_parts)
            )

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data[f"column_{index}"]
            for index in range(len(self.headers))
            if self.cleaned_data.get(f"column_{index}")
        }
