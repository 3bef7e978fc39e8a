"""``{% lead_prediction lead organization %}``: the predictions panel of the lead page."""

from __future__ import annotations

from django import template

from funnel.predictions.selectors import lead_panel_get
from leads.models import Lead
from leadtrack.tenancy.models import Organization

register = template.Library()


@register.inclusion_tag("predictions/_lead_prediction.html", takes_context=True)
def lead_prediction(context: template.Context, lead: Lead, organization: Organization) -> dict:
    return {
        "panel": lead_panel_get(org=organization, lead=lead),
        "organization": organization,
        "can": context.get("can"),
    }


@register.filter
def percent(value: float | None) -> str:
    """0.423 → "42 %"; "—" for no value."""
    return "—" if value is None else f"{value * 100:.0f} %"
