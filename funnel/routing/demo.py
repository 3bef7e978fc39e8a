"""Routing of the demo organization ``robotix`` (idempotent): a team of its two reps and two rules.

``seed_demo_routing()`` is called by ``seed_demo`` after the demo data, so the seeded history
keeps its owners and the leads created from then on are routed.
"""

from __future__ import annotations

from django.db import transaction

from funnel.routing import services
from funnel.routing.models import RoutingTeam
from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

DEMO_ORGANIZATION = "robotix"
DEMO_TEAM = "Inbound reps"
DEMO_REPS = ("rep@robotix.example", "rep2@robotix.example")
DEMO_ENTERPRISE_OWNER = "manager@robotix.example"
REP_CAPACITY = 400


@transaction.atomic
def seed_demo_routing() -> dict[str, int]:
    """Team "Inbound reps" (Remy and Rosa, 400 open leads each); rule 1 sends enterprise leads to
    Mara, rule 2 round-robins every other lead across the team. Returns counts created."""
    organization = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if organization is None:
        return {"teams": 0, "rules": 0}
    with tenant_context(organization):
        if RoutingTeam.objects.filter(organization=organization, name=DEMO_TEAM).exists():
            return {"teams": 0, "rules": 0}
        team = services.routing_team_save(org=organization, name=DEMO_TEAM)
        for email in DEMO_REPS:
            rep = User.objects.get(email=email)
            services.team_member_add(
                org=organization, team_id=team.pk, user_id=rep.pk, max_open_leads=REP_CAPACITY
            )
        services.routing_rule_save(
            org=organization,
            data={
                "name": "Enterprise to Mara",
                "segments": ["enterprise"],
                "action": "user",
                "assign_to": User.objects.get(email=DEMO_ENTERPRISE_OWNER),
            },
        )
        services.routing_rule_save(
            org=organization,
            data={"name": "Everyone else to the inbound reps", "action": "team", "team": team},
        )
    return {"teams": 1, "rules": 2}
