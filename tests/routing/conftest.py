"""Routing's cast in Acme: three reps (Rae, Sam, Tia) besides the shared fixtures, and helpers that
build teams and rules through the services."""

from __future__ import annotations

from collections import Counter

import pytest

from funnel.routing import services
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.factories import UserFactory, add_member


@pytest.fixture
def reps(org):
    people = []
    for name in ("Rae", "Sam", "Tia"):
        user = UserFactory(email=f"{name.lower()}@acme.example", full_name=f"{name} Rep")
        add_member(org, user, Role.SALES_REP)
        people.append(user)
    return people


def make_team(org, name, users, *, capacity=None):
    with tenant_context(org):
        team = services.routing_team_save(org=org, name=name)
        for user in users:
            services.team_member_add(org=org, team_id=team.pk, user_id=user.pk, max_open_leads=capacity)
    return team


def make_rule(org, name, *, team=None, user=None, **conditions):
    data = {"name": name, "action": "user" if user else "team", "assign_to": user, "team": team, **conditions}
    with tenant_context(org):
        return services.routing_rule_save(org=org, data=data)


def owners_of(org, leads) -> Counter:
    with tenant_context(org):
        leads = Lead.objects.filter(pk__in=[lead.pk for lead in leads])
        return Counter(leads.values_list("owner__email", flat=True))


def make_lead_at(org, created_at, *, actor=None, **data):
    """``make_lead`` with a creation date (the service's ``created_at``, as imports give it)."""
    from leads.services import lead_create

    data.setdefault("company", "Initech")
    with tenant_context(org):
        return lead_create(org=org, actor=actor, data=data, created_at=created_at)
