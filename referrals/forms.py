"""Browser forms of the referral program. Choices are built per request, inside the organization."""

from __future__ import annotations

from django import forms
from django_countries import countries

from leads.models import Industry
from leadtrack.tenancy.models import Organization
from referrals.models import Partner, PartnerTier, Program, ProgramRewardRule
from referrals.services import NOTES_MAX_CHARS


class ReferralForm(forms.Form):
    """What a referrer tells us. Input is validated here and again by the service; output is
    escaped by the templates (names with HTML stay text)."""

    program = forms.TypedChoiceField(coerce=int, label="Program")
    company = forms.CharField(max_length=200)
    contact_name = forms.CharField(max_length=200, label="Contact name")
    email = forms.EmailField(max_length=254, label="Contact e-mail")
    phone = forms.CharField(max_length=50, required=False)
    website = forms.CharField(max_length=300, required=False, help_text="The company's website.")
    country = forms.ChoiceField(required=False)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTES_MAX_CHARS,
        required=False,
        help_text="Anything that helps us: need, timing, who to talk to.",
    )

    def __init__(self, *args, programs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *countries]
        if programs is None:
            del self.fields["program"]
        else:
            self.fields["program"].choices = [(p.pk, p.name) for p in programs]

    def service_data(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if k != "program"}


class PublicReferralForm(ReferralForm):
    """The public link's form: no program choice (the link names it) and a honeypot field."""

    # Hidden by CSS and from assistive tech; people leave it empty, form-filling bots do not.
    homepage = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, programs=None, **kwargs)

    def is_bot(self) -> bool:
        return bool(self.data.get("homepage"))

    def service_data(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("program", "homepage")}


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label="Reason")


class PaidForm(forms.Form):
    reference = forms.CharField(max_length=100, required=False, label="Payment reference")


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="End (exclusive)"
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise forms.ValidationError("The end must be after the start.")
        return data


class _OrgModelForm(forms.ModelForm):
    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org


class PartnerForm(_OrgModelForm):
    tier = forms.ModelChoiceField(queryset=PartnerTier.unscoped.none(), required=False)

    class Meta:
        model = Partner
        fields = [
            "name",
            "domain",
            "status",
            "territory",
            "tier",
            "certified",
            "contact_name",
            "contact_email",
            "daily_referral_cap",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = PartnerTier.objects.filter(organization=self.org)


class TierForm(_OrgModelForm):
    class Meta:
        model = PartnerTier
        fields = [
            "name",
            "rank",
            "min_won_revenue",
            "min_referrals",
            "threshold_match",
            "commission_kind",
            "commission_percent",
            "bounty_amount",
        ]
        help_texts = {"bounty_amount": "Minor units (cents)."}


class ProgramForm(_OrgModelForm):
    industry = forms.ModelChoiceField(queryset=Industry.unscoped.none(), required=False)
    min_tier = forms.ModelChoiceField(
        queryset=PartnerTier.unscoped.none(),
        required=False,
        help_text="Partners below this tier cannot use it.",
    )

    class Meta:
        model = Program
        fields = [
            "name",
            "kind",
            "description",
            "active",
            "region",
            "industry",
            "requires_certification",
            "min_tier",
            "protection_days",
            "auto_accept",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry"].queryset = Industry.objects.filter(organization=self.org)
        self.fields["min_tier"].queryset = PartnerTier.objects.filter(organization=self.org)


class RewardRuleForm(_OrgModelForm):
    tier = forms.ModelChoiceField(
        queryset=PartnerTier.unscoped.none(), required=False, empty_label="Any tier"
    )

    class Meta:
        model = ProgramRewardRule
        fields = ["tier", "region", "commission_kind", "commission_percent", "bounty_amount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = PartnerTier.objects.filter(organization=self.org)


class PartnerUserForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, label="Member with the Partner role")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(m.user_id, m.user.email) for m in members]


class LinkForm(forms.Form):
    program = forms.TypedChoiceField(coerce=int)
    customer_email = forms.EmailField(required=False, label="Customer's e-mail")

    def __init__(self, *args, programs=(), customer=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]
        if not customer:
            del self.fields["customer_email"]
        else:
            self.fields["customer_email"].required = True
