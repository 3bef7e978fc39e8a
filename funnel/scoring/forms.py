"""Browser forms of lead scoring: they parse input; the services have the last word."""

from __future__ import annotations

from typing import Any

from django import forms

from leads.models import Industry
from leadtrack.tenancy.models import Organization

from .models import ScoringRule, ScoringSettings
from .services import DEFAULT_SENIORITY_KEYWORDS, RULE_FIELDS


class ScoringRuleForm(forms.ModelForm):
    # Choices are the organization's industries, set per request.
    industry = forms.ModelChoiceField(queryset=Industry.unscoped.none(), required=False)

    class Meta:
        model = ScoringRule
        fields = list(RULE_FIELDS)
        labels = {
            "kind": "Condition",
            "employees_min": "Employees, at least",
            "employees_max": "Employees, at most",
            "title_keywords": "Seniority keywords",
            "activity_kind": "Activity",
            "url_contains": "URL contains",
            "half_life_days": "Half-life (days)",
            "max_count": "Counted at most",
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance.organization = org
        self.fields["industry"].queryset = Industry.objects.filter(organization=org).order_by("name")
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("title_keywords", DEFAULT_SENIORITY_KEYWORDS)
        # The service checks each kind's required parameter (field errors come back from it).
        for name in ("industry", "segment", "region", "title_keywords", "activity_kind"):
            self.fields[name].required = False
        self.fields["max_count"].required = False

    def clean_max_count(self) -> int:
        return self.cleaned_data.get("max_count") or 1

    def _post_clean(self) -> None:
        # Model validation happens in the service (it first clears the parameters the kind does not
        # use); here the values are only copied onto the instance.
        forms.models.construct_instance(self, self.instance, self._meta.fields)


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = ["auto_mql_enabled", "mql_threshold", "bant_required"]
        labels = {
            "auto_mql_enabled": "Promote to MQL automatically",
            "mql_threshold": "MQL threshold (score)",
            "bant_required": "Qualified when at least … of budget, authority, need, timeline are ticked",
        }
        widgets = {
            "bant_required": forms.Select(choices=[(4, "all 4"), (3, "3 of 4"), (2, "2 of 4"), (1, "1 of 4")])
        }


class BantForm(forms.Form):
    budget = forms.BooleanField(required=False, label="Budget", help_text="They can pay for it.")
    authority = forms.BooleanField(
        required=False, label="Authority", help_text="We talk to the decision maker."
    )
    need = forms.BooleanField(required=False, label="Need", help_text="They have the problem we solve.")
    timeline = forms.BooleanField(
        required=False, label="Timeline", help_text="They will buy within a known time."
    )
