"""The demo organizations and people that `make run` seeds (idempotent).

Demo logins share one password, printed by `make run`; they exist for a local
trial only and are never created outside `seed_demo`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role

DEMO_PASSWORD = "leadtrack-demo-2025"  # noqa: S105 - published demo login for local trials


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    time_zone: str
    currency: str


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    roles: dict[str, str]  # organization slug → role


DEMO_ORGANIZATIONS = [
    DemoOrganization("robotix", "Robotix", "America/New_York", "USD"),
    DemoOrganization("northwind", "Northwind Traders", "Europe/London", "GBP"),
]

DEMO_PEOPLE = [
    DemoPerson("admin@robotix.example", "Ada Admin", {"robotix": Role.ADMIN}),
    DemoPerson("manager@robotix.example", "Mara Manager", {"robotix": Role.MANAGER}),
    DemoPerson("rep@robotix.example", "Remy Rep", {"robotix": Role.SALES_REP}),
    DemoPerson("rep2@robotix.example", "Rosa Rep", {"robotix": Role.SALES_REP}),
    DemoPerson("viewer@robotix.example", "Vic Viewer", {"robotix": Role.VIEWER}),
    DemoPerson("admin@northwind.example", "Nora Admin", {"northwind": Role.ADMIN}),
    DemoPerson("manager@northwind.example", "Ned Manager", {"northwind": Role.MANAGER}),
    DemoPerson("rep@northwind.example", "Nils Rep", {"northwind": Role.SALES_REP}),
    DemoPerson("viewer@northwind.example", "Nadia Viewer", {"northwind": Role.VIEWER}),
    # One person in two organizations, with a different role in each.
    DemoPerson(
        "consultant@example.com", "Casey Consultant", {"robotix": Role.MANAGER, "northwind": Role.SALES_REP}
    ),
]


@transaction.atomic
def seed_demo_organizations() -> dict[str, int]:
    """Create the demo organizations, people and memberships; returns counts created."""
    created = {"organizations": 0, "users": 0, "memberships": 0}
    organizations: dict[str, Organization] = {}
    for spec in DEMO_ORGANIZATIONS:
        organization, was_created = Organization.objects.get_or_create(
            slug=spec.slug,
            defaults={"name": spec.name, "time_zone": spec.time_zone, "currency": spec.currency},
        )
        organizations[spec.slug] = organization
        created["organizations"] += was_created
    for person in DEMO_PEOPLE:
        user = User.objects.filter(email__iexact=person.email).first()
        if user is None:
            user = User.objects.create_user(
                email=person.email, password=DEMO_PASSWORD, full_name=person.full_name
            )
            created["users"] += 1
        for slug, role in person.roles.items():
            with tenant_context(organizations[slug]):
                _, was_created = Membership.objects.get_or_create(
                    organization=organizations[slug], user=user, defaults={"role": role}
                )
                created["memberships"] += was_created
    return created
