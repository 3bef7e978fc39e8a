"""Forms of the routing pages; choices are built per request inside the organization."""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from funnel.routing.models import RuleAction, SlaPolicy
from funnel.routing.selectors import routing_member_choices
from leads.models import Industry, Segment, Source
from leads.regions import Region
from leadtrack.tenancy.models import Organization

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


def _user_label(user) -> str:
    return user.full_name or user.email


class RoutingRuleForm(forms.Form):
    """A rule; ``rule_data()`` is the service's ``data``. Empty conditions match every lead."""

    name = forms.CharField(max_length=100)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    countries = forms.MultipleChoiceField(choices=list(countries), required=False)
    regions = forms.MultipleChoiceField(choices=Region.choices, required=False)
    industries = forms.ModelMultipleChoiceField(queryset=Industry.unscoped.none(), required=False)
    segments = forms.MultipleChoiceField(choices=Segment.choices, required=False)
    sources = forms.ModelMultipleChoiceField(queryset=Source.unscoped.none(), required=False)
    min_score = forms.IntegerField(
        required=False,
        min_value=-100_000,
        max_value=100_000,
        label="Minimum score",
        help_text="Blank: any score.",
    )
    action = forms.ChoiceField(choices=RuleAction.choices)
    assign_to = forms.ModelChoiceField(queryset=None, required=False, label="Person")
    team = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        from funnel.routing.models import RoutingTeam

        super().__init__(*args, **kwargs)
        self.fields["industries"].queryset = Industry.objects.filter(organization=org)
        self.fields["sources"].queryset = Source.objects.filter(organization=org)
        self.fields["assign_to"].queryset = routing_member_choices(org=org)
        self.fields["assign_to"].label_from_instance = _user_label
        self.fields["team"].queryset = RoutingTeam.objects.filter(organization=org)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == RuleAction.USER and not cleaned.get("assign_to"):
            self.add_error("assign_to", "Choose the person.")
        if action == RuleAction.TEAM and not cleaned.get("team"):
            self.add_error("team", "Choose the team.")
        return cleaned

    @classmethod
    def initial_from(cls, rule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "is_active": rule.is_active,
            "countries": rule.countries,
            "regions": rule.regions,
            "industries": rule.industry_ids,
            "segments": rule.segments,
            "sources": rule.source_ids,
            "min_score": rule.min_score,
            "action": rule.action,
            "assign_to": rule.assign_to_id,
            "team": rule.team_id,
        }

    def rule_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        user_action = data["action"] == RuleAction.USER
        return {
            "name": data["name"],
            "is_active": data["is_active"],
            "countries": list(data["countries"]),
            "regions": list(data["regions"]),
            "industry_ids": [industry.pk for industry in data["industries"]],
            "segments": list(data["segments"]),
            "source_ids": [source.pk for source in data["sources"]],
            "min_score": data["min_score"],
            "action": data["action"],
            "assign_to": data["assign_to"] if user_action else None,
            "team": None if user_action else data["team"],
        }


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)


class TeamMemberAddForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label="Rep")
    max_open_leads = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100_000,
        label="Capacity",
        help_text="Most open leads; blank: no cap.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = routing_member_choices(org=org)
        self.fields["user"].label_from_instance = _user_label


class TeamMemberForm(forms.Form):
    max_open_leads = forms.IntegerField(required=False, min_value=1, max_value=100_000, label="Capacity")
    is_absent = forms.BooleanField(required=False, label="Absent")


class SlaPolicyForm(forms.Form):
    first_contact_minutes = forms.IntegerField(
        min_value=1, max_value=10_000, label="First contact within (working minutes)"
    )
    workday_start = forms.TimeField(
        label="Working day starts", widget=forms.TimeInput(attrs={"type": "time"})
    )
    workday_end = forms.TimeField(label="Working day ends", widget=forms.TimeInput(attrs={"type": "time"}))
    working_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, label="Working days"
    )
    warning_minutes = forms.IntegerField(
        min_value=0, max_value=1440, label="Warn this many minutes before the deadline"
    )
    reassign_when_missed = forms.BooleanField(required=False, label="Reassign when first contact is missed")
    reassign_after_minutes = forms.IntegerField(
        min_value=1, max_value=10_000, label="Reassign after (working minutes past the deadline)"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("workday_start"), cleaned.get("workday_end")
        if start and end and end <= start:
            self.add_error("workday_end", "Must be after the start of the working day.")
        return cleaned

    @classmethod
    def initial_from(cls, policy: SlaPolicy) -> dict[str, Any]:
        return {name: getattr(policy, name) for name in cls.base_fields}
