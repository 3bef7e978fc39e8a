from __future__ import annotations

from django import forms

TEXT_LIMIT = 20_000


class ReportNotesForm(forms.Form):
    recommendations = forms.CharField(
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown-style text, kept with this quarter's report and printed in every export.",
    )
    next_steps = forms.CharField(
        required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 8})
    )


class SubscriptionForm(forms.Form):
    subscribe = forms.BooleanField(required=False)
