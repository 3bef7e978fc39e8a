"""The lead page's routing panel and the nav's unread-notification count."""

from __future__ import annotations

from typing import Any

from django import template

from funnel.routing import selectors

register = template.Library()


@register.inclusion_tag("routing/_lead_sla.html", takes_context=True)
def lead_routing_panel(context: template.Context, lead) -> dict[str, Any]:
    organization = context["organization"]
    return {
        "lead": lead,
        "sla": selectors.lead_sla(org=organization, lead=lead),
        "organization": organization,
    }


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    request = context.get("request")
    organization = context.get("organization")
    if organization is None or request is None or not request.user.is_authenticated:
        return 0
    return selectors.notifications_unread_count(org=organization, user=request.user)
