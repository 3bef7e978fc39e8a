"""Lead, activity and marketing serializers of the API.

Reads take a lean path (docs/performance.md G1): the list selects ``.values()``
of exactly the columns below and ``*_json`` turns each row into the response
dict; the Serializer classes describe that shape for the OpenAPI schema and
validate input. Relations (industry, source, campaign, owner) are ids, resolved
inside the request's organization: another tenant's id is a 400 field error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django_countries import countries
from rest_framework import serializers

from funnel.stages import Stage
from leads.api.columns import LEAD_COLUMNS, LEAD_VALUES
from leads.imports.parsing import currency_exponent
from leads.models import (
    Activity,
    ActivityKind,
    Campaign,
    ChannelType,
    Industry,
    LawfulBasis,
    Lead,
    Segment,
    Source,
)
from leads.regions import Region
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.selectors import internal_users

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_LEAD_DATETIMES = frozenset(
    {
        "reached_mql_at",
        "reached_sql_at",
        "reached_opportunity_at",
        "closed_at",
        "first_contacted_at",
        "first_meeting_at",
        "created_at",
        "updated_at",
        "marketing_withdrawn_at",
    }
)


def _country_code(value: Any) -> str:
    return str(value or "")


def _as_is(value: Any) -> Any:
    return value


# (output name, column, how its value is written), decided once: a page of 50 leads writes 1,700 values.
_LEAD_OUTPUT = tuple(
    (name, column, iso if name in _LEAD_DATETIMES else _country_code if name == "country" else _as_is)
    for name, column in LEAD_COLUMNS
)


def lead_json(row: dict[str, Any]) -> dict[str, Any]:
    """A ``.values(*LEAD_VALUES)`` row → the API's lead, every value already JSON (webhooks too)."""
    return {name: write(row[column]) for name, column, write in _LEAD_OUTPUT}


_LEAD_NAMES = tuple(name for name, _ in LEAD_COLUMNS)


def lead_page_json(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of ``.values(*LEAD_VALUES)`` rows → the API's leads, for a response only.

    The same leads as ``lead_json`` gives, but the datetimes are left to the API's renderer,
    which writes them as ``iso`` does (leadtrack/api/renderers.py; tests/api/test_renderer.py),
    and the country code is the column's text (never NULL). Renaming 34 values per lead in C
    is what this saves over ``lead_json``: a page of 50 is 1,700 values.
    """
    return [dict(zip(_LEAD_NAMES, map(row.__getitem__, LEAD_VALUES), strict=True)) for row in rows]


def lead_instance_json(lead: Lead) -> dict[str, Any]:
    return lead_json({column: getattr(lead, column) for column in LEAD_VALUES})


class LeadSerializer(serializers.Serializer):
    """A lead as the API returns it (schema; the values come from ``lead_json``)."""

    id = serializers.IntegerField()
    company = serializers.CharField()
    contact_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    job_title = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code, or empty.")
    region = serializers.CharField(
        help_text=f"Derived from the country: one of {', '.join(Region.values)}, or empty."
    )
    industry = serializers.IntegerField(allow_null=True)
    employees = serializers.IntegerField(allow_null=True)
    segment = serializers.CharField(
        help_text=f"Derived from employees: {', '.join(Segment.values)}, or empty."
    )
    source = serializers.IntegerField(allow_null=True)
    campaign = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)
    stage = serializers.ChoiceField(choices=Stage.choices)
    score = serializers.IntegerField()
    expected_amount = serializers.IntegerField(allow_null=True, help_text="Minor units (cents) of currency.")
    won_amount = serializers.IntegerField(allow_null=True, help_text="Minor units (cents) of currency.")
    currency = serializers.CharField()
    external_id = serializers.CharField()
    notes = serializers.CharField()
    close_reason = serializers.CharField()
    reached_mql_at = serializers.DateTimeField(allow_null=True)
    reached_sql_at = serializers.DateTimeField(allow_null=True)
    reached_opportunity_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    first_contacted_at = serializers.DateTimeField(allow_null=True)
    first_meeting_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="Bumped by every change; the ETag.")
    lawful_basis = serializers.ChoiceField(choices=LawfulBasis.choices, help_text="GDPR Art. 6(1) basis.")
    marketing_withdrawn_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the person withdrew from marketing; such leads are in no marketing export.",
    )


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know instead of ignoring them (mass assignment, T4)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """The declared fields, each copied for this serializer.

        DRF deep-copies them, which builds every field again from its arguments: a tenth of a
        lead create's time. A leaf field keeps no per-request state except what ``bind()`` sets
        on the copy (its name and parent), so a shallow copy is enough; a field holding another
        field or serializer (a list's child) is still deep-copied, its child being bound to it.
        """
        return {
            name: copy.deepcopy(field)
            if hasattr(field, "child") or isinstance(field, serializers.BaseSerializer)
            else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {field: ["This field cannot be set here."] for field in unknown}
                )
        return super().to_internal_value(data)


class OrganizationRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of one of the request's organization's rows (another tenant's id is "does not exist").

    The choices are composed from the serializer's ``org`` when a value is validated, not for
    every request: most creates name no relation, and composing four querysets up front was a
    tenth of a create's time. Without an organization (schema generation) there is no choice.
    """

    def __init__(self, *, choices_of: Callable[[Organization], QuerySet], **kwargs: Any) -> None:
        self.choices_of = choices_of
        super().__init__(queryset=choices_of(None), required=False, allow_null=True, **kwargs)

    def get_queryset(self) -> QuerySet:
        return self.choices_of(getattr(self.parent, "org", None))


def _rows_of(model) -> Callable[[Organization | None], QuerySet]:
    return lambda org: model.unscoped.none() if org is None else model.objects.filter(organization=org)


COUNTRY_CHOICES = list(countries)


class CountryField(serializers.ChoiceField):
    """An ISO 3166 country code.

    DRF deep-copies a serializer's declared fields for every instance, and a plain
    ChoiceField's copy walks its ~250 (code, lazily translated name) pairs one object at
    a time: about a third of a lead create's Python time. This field's copy is rebuilt
    from the shared list instead.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=COUNTRY_CHOICES, **kwargs)


def _char(model_field: str, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=Lead._meta.get_field(model_field).max_length, required=False, allow_blank=True, **kwargs
    )


class LeadWriteSerializer(StrictSerializer):
    """Fields a client may set. Stage, score and the funnel dates change through transitions."""

    company = _char("company")
    contact_name = _char("contact_name")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = _char("phone")
    job_title = _char("job_title")
    website = serializers.URLField(max_length=300, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)
    industry = OrganizationRelatedField(choices_of=_rows_of(Industry))
    employees = serializers.IntegerField(min_value=0, max_value=INT_MAX, required=False, allow_null=True)
    source = OrganizationRelatedField(choices_of=_rows_of(Source))
    campaign = OrganizationRelatedField(choices_of=_rows_of(Campaign))
    owner = OrganizationRelatedField(
        choices_of=lambda org: User.objects.none() if org is None else internal_users(org=org)
    )
    expected_amount = serializers.IntegerField(
        min_value=0, max_value=BIGINT_MAX, required=False, allow_null=True
    )
    won_amount = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, required=False, allow_null=True)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_blank=True)
    external_id = _char("external_id")
    notes = serializers.CharField(
        max_length=Lead._meta.get_field("notes").max_length, required=False, allow_blank=True
    )
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        required=False,
        help_text="GDPR Art. 6(1) basis; on creation, legitimate_interest when not given.",
    )
    marketing_withdrawn = serializers.BooleanField(
        required=False,
        help_text="true: the person withdrew consent to, or objected to, marketing (recorded, not reversible "
        "here; a new consent given through a web form opts them in again).",
    )

    def validate_marketing_withdrawn(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Only true: a withdrawal is undone by a new consent.")
        return value

    def __init__(self, *args, org: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org  # the relations' choices (OrganizationRelatedField)


class LeadCreateSerializer(LeadWriteSerializer):
    def validate(self, attrs):
        if not any(attrs.get(field) for field in ("company", "contact_name", "email")):
            raise serializers.ValidationError("Give at least a company, a contact name or an e-mail.")
        return attrs


ACTIVITY_VALUES = (
    "id",
    "lead_id",
    "kind",
    "occurred_at",
    "actor_id",
    "via",
    "subject",
    "body",
    "url",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "created_at",
)


def activity_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {name.removesuffix("_id") if name.endswith("_id") else name: value for name, value in row.items()}
    out["occurred_at"] = iso(row["occurred_at"])
    out["created_at"] = iso(row["created_at"])
    return out


def activity_instance_json(activity: Activity) -> dict[str, Any]:
    return activity_json({column: getattr(activity, column) for column in ACTIVITY_VALUES})


class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    occurred_at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    via = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    referrer_url = serializers.CharField()
    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    utm_term = serializers.CharField()
    utm_content = serializers.CharField()
    created_at = serializers.DateTimeField()


def _activity_char(name: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=Activity._meta.get_field(name).max_length, required=False, allow_blank=True
    )


class ActivityCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    subject = _activity_char("subject")
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    referrer_url = _activity_char("referrer_url")
    utm_source = _activity_char("utm_source")
    utm_medium = _activity_char("utm_medium")
    utm_campaign = _activity_char("utm_campaign")
    utm_term = _activity_char("utm_term")
    utm_content = _activity_char("utm_content")


class SourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel_type = serializers.ChoiceField(choices=ChannelType.choices)
    is_inbound = serializers.BooleanField()
    is_referral = serializers.BooleanField()


SOURCE_VALUES = ("id", "name", "channel_type", "is_inbound", "is_referral")


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.IntegerField(allow_null=True)
    channel_type = serializers.ChoiceField(choices=ChannelType.choices)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    cost = serializers.IntegerField(help_text="Minor units of the organization's currency.")
    budget = serializers.IntegerField(help_text="Minor units of the organization's currency.")


CAMPAIGN_VALUES = ("id", "name", "source_id", "channel_type", "start_date", "end_date", "cost", "budget")


class SpendEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    spent_on = serializers.DateField()
    amount = serializers.IntegerField(help_text="Minor units of the organization's currency.")
    source = serializers.IntegerField(allow_null=True)
    campaign = serializers.IntegerField(allow_null=True)
    channel_type = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


SPEND_VALUES = ("id", "spent_on", "amount", "source_id", "campaign_id", "channel_type", "note", "created_at")


def plain_json(row: dict[str, Any]) -> dict[str, Any]:
    """Rows of the small resources: ``*_id`` → the relation's name; dates as ISO strings."""
    out = {}
    for name, value in row.items():
        key = name.removesuffix("_id") if name != "id" and name.endswith("_id") else name
        out[key] = iso(value) if isinstance(value, date | datetime) else value
    return out


# --- Bulk upsert ---------------------------------------------------------------------------------

BULK_NAMED_FIELDS = ("industry", "source", "campaign")
BULK_MONEY_FIELDS = ("expected_amount", "won_amount", "value_12m")


class BulkRequestSerializer(StrictSerializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=settings.API_BULK_MAX_ITEMS,
        help_text=(
            "Leads as in a create, except: industry, source and campaign by name (created when missing), "
            "owner by e-mail. With the import scope also stage, created_at, reached_mql_at, reached_sql_at, "
            "reached_opportunity_at, closed_at and close_reason. Optional `version`: the lead's `version` as "
            "you read it; see the endpoint."
        ),
    )
    match_on = serializers.ListField(
        child=serializers.ChoiceField(choices=[("external_id", "external_id"), ("email", "email")]),
        required=False,
        default=["external_id", "email"],
        help_text="Keys an item updates an existing lead by, in order; [] only creates.",
    )
    all_or_nothing = serializers.BooleanField(required=False, default=False)


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "duplicate", "error"])
    lead_id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BulkSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    error = serializers.IntegerField()


class BulkResponseSerializer(serializers.Serializer):
    results = BulkItemResultSerializer(many=True)
    summary = BulkSummarySerializer()


def bulk_row(item: dict[str, Any], *, org: Organization) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """An API item → the importer's row (money from minor to major units), or its type errors.

    Relations are names here; a number would be read as a name, so it is refused.
    """
    errors: dict[str, list[str]] = {}
    row = dict(item)
    for name in (*BULK_NAMED_FIELDS, "owner"):
        if name in row and row[name] is not None and not isinstance(row[name], str):
            errors[name] = ["Give the name (the owner's e-mail), not an id."]
    currency = row.get("currency") if isinstance(row.get("currency"), str) else ""
    exponent = currency_exponent((currency or org.currency).upper())
    for name in BULK_MONEY_FIELDS:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BIGINT_MAX:
            errors[name] = ["A whole number of minor units (cents), zero or more."]
        else:
            row[name] = str(Decimal(value).scaleb(-exponent))
    return row, errors
