"""Model fields of the leads app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django_countries import fields


class CountryField(fields.CountryField):
    """django-countries' field, its choice checked by a lookup instead of a walk.

    Django validates a field with choices by walking them, and django-countries' choices are
    built again (250 countries, each normalized) on every walk: about a tenth of what a
    validated lead create cost in Python. ``code in countries`` asks the same set
    (COUNTRIES_ONLY and COUNTRIES_OVERRIDE included) with the same answer and message.
    """

    def validate(self, value, model_instance) -> None:
        if self.multiple or not self.editable or value in self.empty_values:
            return super().validate(value, model_instance)
        if value not in self.countries:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return None
