"""The demo organization's routing: a team of two reps and two rules, seeded once."""

from __future__ import annotations

from funnel.routing.demo import seed_demo_routing
from funnel.routing.models import RoutingRule, TeamMember
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.demo import seed_demo_organizations
from leadtrack.tenancy.models import Organization
from tests.factories import make_lead


def test_the_demo_routes_enterprise_leads_to_mara_and_the_rest_in_turn(db):
    seed_demo_organizations()
    assert seed_demo_routing() == {"teams": 1, "rules": 2}
    assert seed_demo_routing() == {"teams": 0, "rules": 0}
    robotix = Organization.objects.get(slug="robotix")
    with tenant_context(robotix):
        rules = list(RoutingRule.objects.order_by("position").values_list("name", flat=True))
        members = list(TeamMember.objects.order_by("pk").values_list("user__email", "max_open_leads"))
    assert rules == ["Enterprise to Mara", "Everyone else to the inbound reps"]
    assert members == [("rep@robotix.example", 400), ("rep2@robotix.example", 400)]
    owners = [
        make_lead(robotix, company=company, employees=employees).owner.email
        for company, employees in (("Big", 5000), ("Small 1", 10), ("Small 2", 20), ("Small 3", None))
    ]
    assert owners == [
        "manager@robotix.example",
        "rep@robotix.example",
        "rep2@robotix.example",
        "rep@robotix.example",
    ]
