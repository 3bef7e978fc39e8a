"""Browser forms for leads. Choices are built per request inside the organization.

Forms only parse and check input; writes go through leads.services and
funnel.services, which have the last word (their ValidationError fields are
mapped back onto these forms by the views).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_countries import countries

from funnel.stages import Stage
from leads.models import (
    ActivityKind,
    Campaign,
    CountryRegion,
    Industry,
    Lead,
    LeadSettings,
    SavedView,
    Source,
)
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import role_can
from leadtrack.tenancy.selectors import internal_users

# Ten trillion in major units: far above any deal, far below BigIntegerField's limit.
MAX_MAJOR_AMOUNT = Decimal("10000000000000")


class MoneyField(forms.CharField):
    """An amount typed in major units ("1,250.50") cleaned to integer minor units (125050).

    Initial values are minor units (ints, as stored); bound values are what the person typed.
    """

    default_error_messages = {
        "invalid": "Enter an amount such as 1,250.50.",
        "negative": "Must be zero or more.",
        "precision": "At most two decimals.",
        "too_large": "That amount is too large.",
    }

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 30}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{Decimal(value) / 100:.2f}"
        return value

    def to_python(self, value: Any) -> int | None:
        text = super().to_python(value)
        text = text.replace(",", "").replace(" ", "").replace("_", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if not amount.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if amount < 0:
            raise forms.ValidationError(self.error_messages["negative"], code="negative")
        if amount > MAX_MAJOR_AMOUNT:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(self.error_messages["precision"], code="precision")
        return int(amount * 100)


def owner_choices(*, org: Organization, membership: Membership) -> QuerySet[User]:
    """Whom this member may make a lead's owner: anyone for managers and admins, only
    themselves for reps (a rep handing a lead to a colleague would lose sight of it)."""
    users = internal_users(org=org)
    if role_can(membership.role, "leads.edit_all"):
        return users
    return users.filter(pk=membership.user_id)


def _user_label(user: User) -> str:
    return user.full_name or user.email


COUNTRY_CHOICES = [("", "—"), *countries]


class LeadForm(forms.Form):
    """Create and edit a lead; ``cleaned_data`` minus ``version`` is the services' ``data``."""

    company = forms.CharField(max_length=200, required=False)
    contact_name = forms.CharField(max_length=200, required=False, label="Contact name")
    email = forms.EmailField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=50, required=False)
    job_title = forms.CharField(max_length=200, required=False, label="Job title")
    website = forms.CharField(max_length=300, required=False, help_text="e.g. acme.com")
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, required=False)
    industry = forms.ModelChoiceField(queryset=Industry.unscoped.none(), required=False)
    employees = forms.IntegerField(min_value=0, max_value=10_000_000, required=False)
    source = forms.ModelChoiceField(queryset=Source.unscoped.none(), required=False)
    campaign = forms.ModelChoiceField(queryset=Campaign.unscoped.none(), required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    expected_amount = MoneyField(label="Expected amount", help_text="In major units, e.g. 1,250.50")
    currency = forms.CharField(
        max_length=3, min_length=3, required=False, help_text="ISO code; the organization's by default"
    )
    value_12m = MoneyField(label="12-month value")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=Lead._meta.get_field("notes").max_length,
    )
    # Optimistic concurrency: the version the person saw (edit only).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, org: Organization, membership: Membership, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["industry"].queryset = Industry.objects.filter(organization=org)
        self.fields["source"].queryset = Source.objects.filter(organization=org)
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=org)
        self.fields["owner"].queryset = owner_choices(org=org, membership=membership)
        self.fields["owner"].label_from_instance = _user_label
        if not role_can(membership.role, "leads.edit_all"):
            # A rep's leads are the rep's: an unassigned lead would drop out of their sight.
            self.fields["owner"].required = True
            self.fields["owner"].empty_label = None
            self.fields["owner"].help_text = "Your manager can hand a lead to a colleague."

    @classmethod
    def initial_from(cls, lead: Lead) -> dict[str, Any]:
        initial = {name: getattr(lead, name) for name in cls.base_fields if name != "version"}
        initial["country"] = str(lead.country or "")
        initial["version"] = lead.version
        return initial

    def clean_website(self) -> str:
        website = self.cleaned_data["website"].strip()
        if website and "//" not in website:
            website = "https://" + website
        return website

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("company", "contact_name", "email")):
            raise forms.ValidationError("Give at least a company, a contact name or an e-mail.")
        return cleaned

    def lead_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class ActivityForm(forms.Form):
    """Log a touchpoint: the submit button that was pressed carries the kind."""

    LOGGABLE = (
        ActivityKind.CALL,
        ActivityKind.EMAIL_SENT,
        ActivityKind.MEETING,
        ActivityKind.DEMO,
        ActivityKind.NOTE,
    )

    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind in LOGGABLE])
    subject = forms.CharField(max_length=300, required=False, label="Summary")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Details")
    occurred_at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="Leave empty for now",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("kind") == ActivityKind.NOTE and not (cleaned.get("subject") or cleaned.get("body")):
            self.add_error("body", "Write the note.")
        return cleaned


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(choices=Stage.choices, label="Move to")
    reason = forms.CharField(
        max_length=300, required=False, help_text="Required for closed lost and disqualified"
    )
    amount = MoneyField(help_text="Required for opportunity and won, unless the lead has one")
    # What the person saw: a move by someone else in between becomes a conflict, not a surprise.
    expected_stage = forms.ChoiceField(choices=Stage.choices, required=False, widget=forms.HiddenInput)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 19


class _LeadVersionField(forms.MultipleChoiceField):
    """Checkboxes posting "<lead id>:<version>", the version the page showed: a lead changed by someone
    else since is then refused, not overwritten (D4). Cleans to {lead id: version}; any well-formed
    pair passes here, visibility is checked later."""

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        for item in value:
            if _is_number(str(item)):
                # An id alone (a page rendered before versions were posted): without the version
                # a change made since could be overwritten.
                raise forms.ValidationError(
                    "This page is out of date; reload it and select the leads again.", code="stale_page"
                )
            if not self.valid_value(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )

    def valid_value(self, value: Any) -> bool:
        lead_id, colon, version = str(value).partition(":")
        return bool(colon) and _is_number(lead_id) and _is_number(version)

    def clean(self, value: Any) -> dict[int, int]:
        versions: dict[int, int] = {}
        for item in super().clean(value):
            lead_id, _, version = item.partition(":")
            versions.setdefault(int(lead_id), int(version))
        return versions


class BulkActionForm(forms.Form):
    ASSIGN = "assign"
    MOVE = "move"
    MAX_LEADS = 500

    action = forms.ChoiceField(choices=[(ASSIGN, "Assign owner"), (MOVE, "Move stage")])
    lead = _LeadVersionField()
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    to_stage = forms.ChoiceField(choices=[("", "—"), *Stage.choices], required=False, label="Stage")
    reason = forms.CharField(max_length=300, required=False)
    amount = MoneyField()

    def __init__(self, *args: Any, org: Organization, membership: Membership, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(org=org, membership=membership)
        self.fields["owner"].label_from_instance = _user_label
        self.fields["lead"].error_messages["required"] = "Select at least one lead."
        self.may_unassign = role_can(membership.role, "leads.edit_all")
        if not self.may_unassign:
            self.fields["owner"].empty_label = None

    def clean_lead(self) -> dict[int, int]:
        versions = self.cleaned_data["lead"]
        if len(versions) > self.MAX_LEADS:
            raise forms.ValidationError(f"Select at most {self.MAX_LEADS} leads at once.")
        return versions

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("action") == self.MOVE and not cleaned.get("to_stage"):
            self.add_error("to_stage", "Choose the stage to move to.")
        if cleaned.get("action") == self.ASSIGN and cleaned.get("owner") is None and not self.may_unassign:
            self.add_error("owner", "Choose the new owner.")
        return cleaned


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "shared", "query"]
        widgets = {"query": forms.HiddenInput}
        labels = {"shared": "Share with the team"}


class LeadSettingsForm(forms.ModelForm):
    class Meta:
        model = LeadSettings
        fields = ["enterprise_min_employees", "mid_market_min_employees", "reps_see_all_leads"]
        labels = {
            "enterprise_min_employees": "Enterprise from (employees)",
            "mid_market_min_employees": "Mid-market from (employees)",
            "reps_see_all_leads": "Sales reps see the team's leads",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        enterprise = cleaned.get("enterprise_min_employees")
        mid_market = cleaned.get("mid_market_min_employees")
        if enterprise is not None and mid_market is not None and mid_market >= enterprise:
            self.add_error("mid_market_min_employees", "Must be below the enterprise threshold.")
        return cleaned


class _OrgUniqueNameMixin:
    """The database's case-insensitive unique name per organization, as a field error."""

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.org = org
        self.instance.organization = org

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        model = self._meta.model
        taken = model.objects.filter(organization=self.org, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"There is already a {model._meta.verbose_name} with this name.")
        return name


class SourceForm(_OrgUniqueNameMixin, forms.ModelForm):
    class Meta:
        model = Source
        fields = ["name", "channel_type", "is_inbound", "is_referral"]
        labels = {"is_inbound": "Inbound", "is_referral": "Referral"}
        help_texts = {
            "is_inbound": "The lead came to us (web form, event, paid, referral).",
            "is_referral": "Someone referred the lead (partner, customer, employee).",
        }


class CampaignForm(_OrgUniqueNameMixin, forms.ModelForm):
    # Declared: the model field's default queryset would need an active organization at import.
    source = forms.ModelChoiceField(queryset=Source.unscoped.none(), required=False)
    cost = MoneyField(required=True, help_text="In major units, e.g. 1,250.50")
    budget = MoneyField(required=True, help_text="In major units")

    class Meta:
        model = Campaign
        fields = ["name", "source", "channel_type", "start_date", "end_date", "cost", "budget"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        super().__init__(*args, org=org, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(organization=org)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "Must be on or after the start date.")
        return cleaned


class IndustryForm(_OrgUniqueNameMixin, forms.ModelForm):
    class Meta:
        model = Industry
        fields = ["name"]


class CountryRegionForm(forms.ModelForm):
    class Meta:
        model = CountryRegion
        fields = ["country", "region"]

    def __init__(self, *args: Any, org: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.org = org
        self.instance.organization = org

    def clean_country(self) -> str:
        country = self.cleaned_data["country"]
        if CountryRegion.objects.filter(organization=self.org, country=country).exists():
            raise forms.ValidationError("This country already has an override; remove it first.")
        return country
