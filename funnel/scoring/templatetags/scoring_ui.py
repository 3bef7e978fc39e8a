"""The lead page's scoring panel: ``{% scoring_panel %}`` inside templates/scoring/_lead_panel.html."""

from __future__ import annotations

from django import template

from leadtrack.tenancy.roles import role_can

from ..forms import BantForm
from ..selectors import lead_score_view

register = template.Library()


@register.inclusion_tag("scoring/_score.html", takes_context=True)
def scoring_panel(context: template.Context) -> dict:
    request = context["request"]
    lead = context["lead"]
    view = lead_score_view(org=request.organization, lead=lead)
    can_qualify = bool(context.get("can_edit")) and role_can(request.membership.role, "leads.qualify")
    bant = view.bant
    return {
        "organization": request.organization,
        "lead": lead,
        "score": view,
        "can_qualify": can_qualify,
        "bant_form": BantForm(
            initial={name: getattr(bant, name) for name in ("budget", "authority", "need", "timeline")}
        )
        if can_qualify
        else None,
        "bant_ticked": bant.ticked,
        "csrf_token": context.get("csrf_token"),
    }
