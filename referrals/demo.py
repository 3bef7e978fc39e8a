"""The referral program of the demo organization ``robotix`` (idempotent).

``seed_demo_referrals()`` is meant to be called by ``seed_demo`` after
``seed_demo_organizations()``: tiers, programs, two partners with a portal user
each (password: the shared demo password), a public link per partner and a few referrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from leads.regions import Region
from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.demo import DEMO_PASSWORD
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role
from referrals import services
from referrals.models import (
    Partner,
    PartnerTier,
    PartnerUser,
    Program,
    ProgramKind,
    ReferralLink,
)

DEMO_ORGANIZATION = "robotix"


@dataclass(frozen=True)
class DemoPartner:
    name: str
    domain: str
    tier: str
    certified: bool
    territory: str
    user_email: str
    user_name: str


DEMO_TIERS = [
    # name, rank, thresholds and commission
    ("Registered", 0, {"commission_percent": Decimal("10")}),
    ("Silver", 1, {"min_referrals": 5, "commission_percent": Decimal("12")}),
    ("Gold", 2, {"min_won_revenue": 50_000_00, "commission_percent": Decimal("15")}),
]
DEMO_PROGRAMS = [
    ("Reseller program", ProgramKind.PARTNER, {}),
    (
        "Certified integrator track",
        ProgramKind.PARTNER,
        {"requires_certification": True, "protection_days": 120},
    ),
    ("EMEA track", ProgramKind.PARTNER, {"region": Region.EUROPE}),
    ("Customer advocacy", ProgramKind.CUSTOMER, {}),
    ("Employee referrals", ProgramKind.EMPLOYEE, {}),
]
DEMO_PARTNERS = [
    DemoPartner(
        "Acme Integrators",
        "acme-integrators.example",
        "Gold",
        True,
        Region.NORTH_AMERICA,
        "partner@robotix.example",
        "Paula Partner",
    ),
    DemoPartner(
        "Botworks Consulting",
        "botworks.example",
        "Registered",
        False,
        Region.EUROPE,
        "partner2@robotix.example",
        "Pieter Partner",
    ),
]
DEMO_REFERRALS = [
    ("Acme Integrators", "Northstar Logistics", "Nora North", "nora@northstar-logistics.example"),
    ("Acme Integrators", "Helix Foods", "Hank Helix", "hank@helixfoods.example"),
    ("Botworks Consulting", "Delft Robotics", "Daan Delft", "daan@delftrobotics.example"),
]


@transaction.atomic
def seed_demo_referrals() -> dict[str, int]:
    """Create robotix's referral program; returns counts created (zero when run again)."""
    created = {"tiers": 0, "programs": 0, "partners": 0, "partner_users": 0, "links": 0, "referrals": 0}
    org = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if org is None:
        return created
    with tenant_context(org):
        tiers = {}
        for name, rank, fields in DEMO_TIERS:
            tier = PartnerTier.objects.filter(organization=org, name=name).first()
            if tier is None:
                tier = services.tier_save(org=org, tier=PartnerTier(name=name, rank=rank, **fields))
                created["tiers"] += 1
            tiers[name] = tier
        programs = {}
        for name, kind, fields in DEMO_PROGRAMS:
            program = Program.objects.filter(organization=org, name=name).first()
            if program is None:
                program = services.program_save(org=org, program=Program(name=name, kind=kind, **fields))
                created["programs"] += 1
            programs[name] = program
        partners = {}
        for spec in DEMO_PARTNERS:
            partner = Partner.objects.filter(organization=org, name=spec.name).first()
            if partner is None:
                partner = services.partner_save(
                    org=org,
                    actor=None,
                    partner=Partner(
                        name=spec.name,
                        domain=spec.domain,
                        tier=tiers[spec.tier],
                        certified=spec.certified,
                        territory=spec.territory,
                        contact_email=spec.user_email,
                    ),
                )
                created["partners"] += 1
            partners[spec.name] = partner
            user = User.objects.filter(email__iexact=spec.user_email).first()
            if user is None:
                user = User.objects.create_user(
                    email=spec.user_email, password=DEMO_PASSWORD, full_name=spec.user_name
                )
            Membership.objects.get_or_create(organization=org, user=user, defaults={"role": Role.PARTNER})
            if not PartnerUser.objects.filter(organization=org, user=user).exists():
                services.partner_user_link(org=org, partner_id=partner.pk, user_id=user.pk)
                created["partner_users"] += 1
            if not ReferralLink.objects.filter(organization=org, partner=partner).exists():
                services.referral_link_create(
                    org=org, program_id=programs["Reseller program"].pk, partner_id=partner.pk
                )
                created["links"] += 1
        for partner_name, company, contact, email in DEMO_REFERRALS:
            submission = services.referral_submit(
                org=org,
                program_id=programs["Reseller program"].pk,
                referrer=services.Referrer(kind="partner", partner=partners[partner_name]),
                data={"company": company, "contact_name": contact, "email": email},
                submitted_by=None,
            )
            created["referrals"] += submission.created
    return created
