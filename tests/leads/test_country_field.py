"""leads.fields.CountryField answers what django-countries' own validation answers, by a lookup."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_countries import fields

from leads.models import Lead
from leadtrack.tenancy.context import tenant_context

COUNTRY = Lead._meta.get_field("country")


def _verdict(validate, value):
    try:
        validate(value, None)
    except ValidationError as exc:
        return exc.messages, exc.code
    return None


@pytest.mark.parametrize("value", ["DE", "US", "", None, "XX", "de", "DEU", " DE", "EU", "276"])
def test_the_lookup_gives_the_librarys_verdict(value):
    theirs = _verdict(lambda v, i: fields.CountryField.validate(COUNTRY, v, i), value)
    assert _verdict(COUNTRY.validate, value) == theirs


def test_an_unknown_country_is_a_field_error_on_the_lead(org):
    lead = Lead(organization=org, company="Nowhere Ltd", country="XX")
    with tenant_context(org), pytest.raises(ValidationError) as caught:
        lead.full_clean(exclude=["organization", "merged_into"], validate_unique=False)
    assert caught.value.message_dict["country"] == ["Value 'XX' is not a valid choice."]
