"""Reads of leads, scoped to the organization and to what the member may see."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import QuerySet

from leads.filters import LeadFilter
from leads.models import Activity, Lead, LeadChange
from leads.rules import derivation_rules
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import role_can


def lead_visible_queryset(*, org: Organization, membership: Membership) -> QuerySet[Lead]:
    """Live leads the member may see: all for managers and admins; a rep's own unless the
    organization lets reps see the team's."""
    queryset = Lead.objects.filter(organization=org, deleted_at__isnull=True)
    if role_can(membership.role, "leads.view_all"):
        return queryset
    if not role_can(membership.role, "leads.view"):
        return queryset.none()
    if derivation_rules(org=org).settings.reps_see_all_leads:
        return queryset
    return queryset.filter(owner_id=membership.user_id)


def lead_get(*, org: Organization, membership: Membership, lead_id: int) -> Lead:
    """One visible lead. Raises Lead.DoesNotExist (→ 404) for another tenant's or an invisible lead."""
    return (
        lead_visible_queryset(org=org, membership=membership)
        .select_related("source", "campaign", "industry", "owner")
        .get(pk=lead_id)
    )


def lead_can_edit(*, membership: Membership, lead: Lead) -> bool:
    if role_can(membership.role, "leads.edit_all"):
        return True
    return role_can(membership.role, "leads.edit") and lead.owner_id in (None, membership.user_id)


def lead_list(
    *, org: Organization, membership: Membership, filters: Mapping[str, str] | None = None
) -> tuple[QuerySet[Lead], LeadFilter]:
    """Visible leads narrowed by the list filters, newest first; returns the FilterSet for its form."""
    base = lead_visible_queryset(org=org, membership=membership)
    filterset = LeadFilter(filters or {}, queryset=base, organization=org)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    return queryset.order_by("-created_at", "-id"), filterset


def lead_timeline(*, org: Organization, lead: Lead) -> list[tuple[str, object]]:
    """Activities, stage transitions and field changes of a lead, newest first."""
    activities = Activity.objects.filter(organization=org, lead=lead).select_related("actor")
    transitions = lead.transitions.select_related("by")
    changes = LeadChange.objects.filter(organization=org, lead=lead).select_related("actor")
    items = (
        [("activity", a.occurred_at, a) for a in activities]
        + [("transition", t.at, t) for t in transitions]
        + [("change", c.changed_at, c) for c in changes]
    )
    items.sort(key=lambda item: item[1], reverse=True)
    return [(kind, obj) for kind, _, obj in items]
