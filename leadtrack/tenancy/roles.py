"""Roles and what each may do: the one policy table every view and endpoint uses.

A member without a permission gets 403; a person who is not a member of the
organization gets 404 (the organization's existence is not revealed).
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Marketing manager"
    SALES_REP = "sales_rep", "Sales rep"
    VIEWER = "viewer", "Viewer"
    PARTNER = "partner", "Partner"


INTERNAL = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP, Role.VIEWER})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # Organization administration
    "org.view": INTERNAL,
    "org.manage_members": frozenset({Role.ADMIN}),
    "org.manage_settings": frozenset({Role.ADMIN}),
    "org.manage_api_keys": frozenset({Role.ADMIN}),
    # Leads
    "leads.view": INTERNAL,
    "leads.view_all": frozenset({Role.ADMIN, Role.MANAGER, Role.VIEWER}),
    "leads.create": frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    "leads.edit": frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    "leads.edit_all": frozenset({Role.ADMIN, Role.MANAGER}),
    "leads.delete": frozenset({Role.ADMIN, Role.MANAGER}),
    "leads.import": frozenset({Role.ADMIN, Role.MANAGER}),
    "leads.export": frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    # Sources, campaigns (cost, budget) and industries that leads are filed under
    "catalog.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    # Marketing
    "dashboards.view": frozenset({Role.ADMIN, Role.MANAGER, Role.VIEWER}),
    "reports.view": frozenset({Role.ADMIN, Role.MANAGER, Role.VIEWER}),
    "reports.edit": frozenset({Role.ADMIN, Role.MANAGER}),
    "spend.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    # Referral program
    "partners.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    # Any member of the organization refers people they know (employee referrals).
    "referrals.submit": INTERNAL,
    "portal.use": frozenset({Role.PARTNER}),
    # Qualification: scoring rules and the automatic MQL threshold, routing rules and the SLA
    "scoring.manage": frozenset({Role.ADMIN}),
    "leads.qualify": frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    "routing.manage": frozenset({Role.ADMIN}),
    "sla.view": frozenset({Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    "predictions.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    # Web capture: forms, the tracking snippet, e-mail event webhooks
    "forms.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "tracking.manage": frozenset({Role.ADMIN, Role.MANAGER}),
}


def role_can(role: str | None, permission: str) -> bool:
    """True when ``role`` holds ``permission``. Unknown permissions are a bug: KeyError."""
    if role is None:
        return False
    return role in PERMISSIONS[permission]
