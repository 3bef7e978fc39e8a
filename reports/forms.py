from __future__ import annotations

from datetime import date

from django import forms

from leads.filters import LeadFilter
from reports.models import ReportSettings
from reports.periods import quarter_of
from reports.selectors import DASHBOARD_FILTERS


class DashboardForm(forms.Form):
    """The range and view options every dashboard widget shares (lead filters come from LeadFilter)."""

    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    basis = forms.ChoiceField(choices=[("cohort", "Cohort"), ("flow", "Flow")], required=False, label="Rates")
    grain = forms.ChoiceField(
        choices=[("month", "Monthly"), ("week", "Weekly"), ("quarter", "Quarterly")],
        required=False,
        label="By",
    )

    def clean(self):
        cleaned = super().clean()
        today = date.today()
        start, end = quarter_of(today)
        cleaned["date_from"] = cleaned.get("date_from") or start
        cleaned["date_to"] = cleaned.get("date_to") or end
        if cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "Must be on or after the start date.")
        cleaned["basis"] = cleaned.get("basis") or "cohort"
        cleaned["grain"] = cleaned.get("grain") or "month"
        return cleaned


class ReportSettingsForm(forms.ModelForm):
    class Meta:
        model = ReportSettings
        fields = [
            "benchmark_lead_to_mql",
            "benchmark_mql_to_sql",
            "benchmark_sql_to_opportunity",
            "benchmark_opportunity_to_close",
            "monthly_value_per_customer",
            "gross_margin",
            "customer_lifetime_months",
            "first_contact_sla_hours",
            "probability_lead",
            "probability_mql",
            "probability_sql",
            "probability_opportunity",
        ]


def _dashboard_lead_filter() -> type[LeadFilter]:
    """LeadFilter with only the filters the dashboards offer (selectors.DASHBOARD_FILTERS).

    Same filters, same meaning (a subclass); built on every dashboard page, so it leaves out the
    others. The country list is LeadFilter's own callable (leads.filters.country_choices).
    """
    attrs: dict[str, object] = {
        name: None for name in LeadFilter.base_filters if name not in DASHBOARD_FILTERS
    }
    attrs["__module__"] = __name__
    attrs["__doc__"] = "The dashboards' lead filters."
    return type("DashboardLeadFilter", (LeadFilter,), attrs)


DashboardLeadFilter = _dashboard_lead_filter()
