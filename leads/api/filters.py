"""Filters of the API's smaller lists. Leads use leads.filters.LeadFilter, the UI's own."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from leads.models import Activity, ActivityKind, Campaign, ChannelType, Lead, Source, SpendEntry
from leadtrack.filters import FilterSet
from leadtrack.tenancy.models import Organization


class ActivityFilter(FilterSet):
    lead = django_filters.ModelChoiceFilter(queryset=Lead.unscoped.none())
    kind = django_filters.MultipleChoiceFilter(choices=ActivityKind.choices)
    occurred_from = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    # Activities are append-only: "updated since" is "logged since".
    updated_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields: list[str] = []

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["lead"].queryset = Lead.objects.filter(
            organization=organization, deleted_at__isnull=True
        )


BOOLEAN_CHOICES = (("true", "true"), ("false", "false"))


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true`` or ``false``; anything else is a 400 (django-filter's BooleanFilter ignores it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=BOOLEAN_CHOICES, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{self.field_name: value == "true"})


class SourceFilter(FilterSet):
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    is_inbound = StrictBooleanFilter()
    is_referral = StrictBooleanFilter()
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Source
        fields: list[str] = []

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)


class CampaignFilter(FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=Source.unscoped.none())
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    active_on = django_filters.DateFilter(method="filter_active_on", label="Running on this day")

    class Meta:
        model = Campaign
        fields: list[str] = []

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["source"].queryset = Source.objects.filter(organization=organization)

    def filter_active_on(self, queryset, name, value):
        return queryset.exclude(start_date__gt=value).exclude(end_date__lt=value)


class SpendEntryFilter(FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=Source.unscoped.none())
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.unscoped.none())
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    spent_from = django_filters.DateFilter(field_name="spent_on", lookup_expr="gte")
    spent_to = django_filters.DateFilter(field_name="spent_on", lookup_expr="lte")
    updated_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = SpendEntry
        fields: list[str] = []

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["source"].queryset = Source.objects.filter(organization=organization)
        self.filters["campaign"].queryset = Campaign.objects.filter(organization=organization)
