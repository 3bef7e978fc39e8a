from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone


class TrackingSiteForm(forms.Form):
    name = forms.CharField(max_length=100)
    allowed_domains = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One host name per line (example.com also allows www.example.com). Empty: any site.",
    )
    honour_do_not_track = forms.BooleanField(
        required=False, initial=True, label="Honour Do-Not-Track (record nothing for those visitors)"
    )
    require_consent = forms.BooleanField(
        required=False, label="Require consent (the page calls leadtrack('consent', true) first)"
    )

    def clean_allowed_domains(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_domains") or ""
        return [line.strip() for line in raw.replace(",", "\n").splitlines() if line.strip()]


class TrackingSiteEditForm(TrackingSiteForm):
    is_active = forms.BooleanField(required=False, label="Active (unchecked: events are refused)")


class TrafficForm(forms.Form):
    """The Web traffic dashboard's range: the organization's local dates, the last 30 days by default."""

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    grain = forms.ChoiceField(
        choices=[("day", "Daily"), ("week", "Weekly"), ("month", "Monthly")], required=False, label="By"
    )

    def __init__(self, data, *, time_zone):
        # The defaults are written into the data, so that the form shows the range it computes.
        data = data.copy()
        today = timezone.now().astimezone(time_zone).date()
        if not data.get("date_to"):
            data["date_to"] = today.isoformat()
        if not data.get("date_from"):
            data["date_from"] = (today - timedelta(days=29)).isoformat()
        data.setdefault("grain", "day")
        super().__init__(data)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "Must be on or after the start date.")
        cleaned["grain"] = cleaned.get("grain") or "day"
        return cleaned
