from __future__ import annotations

from datetime import date

from django import forms

from reports.attribution.selectors import CONVERSIONS, DIMENSIONS
from reports.metrics import ATTRIBUTION_MODELS
from reports.periods import quarter_of


class PeriodForm(forms.Form):
    """A range of local days; empty means the current quarter of the organization's calendar."""

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        start, end = quarter_of(self.today)
        cleaned["date_from"] = cleaned.get("date_from") or start
        cleaned["date_to"] = cleaned.get("date_to") or end
        if cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "Must be on or after the start date.")
        return cleaned


class AttributionForm(PeriodForm):
    model = forms.ChoiceField(
        choices=[(name, label) for name, (label, _) in ATTRIBUTION_MODELS.items()],
        required=False,
        label="Model",
    )
    conversion = forms.ChoiceField(choices=list(CONVERSIONS.items()), required=False, label="Conversion")
    dimension = forms.ChoiceField(choices=list(DIMENSIONS.items()), required=False, label="Credit per")

    def clean(self):
        cleaned = super().clean()
        cleaned["model"] = cleaned.get("model") or "position_based"
        cleaned["conversion"] = cleaned.get("conversion") or "mql"
        cleaned["dimension"] = cleaned.get("dimension") or "campaign"
        return cleaned
