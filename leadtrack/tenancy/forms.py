from __future__ import annotations

import zoneinfo

from django import forms

from leadtrack.tenancy.roles import Role

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
INVITABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.PARTNER]


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=50, help_text="Letters, digits and hyphens; part of your address.")
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")
    currency = forms.CharField(max_length=3, min_length=3, initial="USD")


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=INVITABLE_ROLES, initial=Role.SALES_REP)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=INVITABLE_ROLES)
