"""Display helpers for lead pages: money in major units, field-change rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist

from leads.models import Lead

register = template.Library()

MONEY_FIELDS = frozenset({"expected_amount", "won_amount", "value_12m", "cost", "budget"})


@register.filter
def money(minor_units: int | None) -> str:
    """125050 → "1,250.50"; blank for no amount."""
    if minor_units is None or minor_units == "":
        return ""
    return f"{Decimal(int(minor_units)) / 100:,.2f}"


def field_label(name: str) -> str:
    try:
        label = str(Lead._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


def _change_value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name in MONEY_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return money(value)
    return str(value)


@register.filter
def change_rows(changes: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
    """A LeadChange's ``{"field": [old, new]}`` as (label, old, new) display rows."""
    return [
        (field_label(name), _change_value(name, pair[0]), _change_value(name, pair[1]))
        for name, pair in changes.items()
    ]
