"""The referral program's cast, in Acme: two partners (Partnerco with Pat, Rivalco with Ria),
a tier ladder, a partner program; and Globex with a partner of its own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from referrals import services
from referrals.models import CommissionKind, Partner, PartnerTier, Program, ProgramKind
from tests.factories import UserFactory, add_member


def make_tier(org, name, rank, **fields):
    with tenant_context(org):
        return services.tier_save(org=org, tier=PartnerTier(name=name, rank=rank, **fields))


def make_partner(org, name, tier=None, **fields):
    with tenant_context(org):
        return services.partner_save(org=org, actor=None, partner=Partner(name=name, tier=tier, **fields))


def make_program(org, name="Partner program", kind=ProgramKind.PARTNER, **fields):
    with tenant_context(org):
        return services.program_save(org=org, program=Program(name=name, kind=kind, **fields))


def make_partner_user(org, partner, email):
    user = UserFactory(email=email)
    add_member(org, user, Role.PARTNER)
    with tenant_context(org):
        services.partner_user_link(org=org, partner_id=partner.pk, user_id=user.pk)
    return user


def submit(org, partner, program, *, user=None, **data):
    data.setdefault("company", "Newco")
    data.setdefault("contact_name", "Nina New")
    data.setdefault("email", "nina@newco.example")
    with tenant_context(org):
        return services.referral_submit(
            org=org,
            program_id=program.pk,
            referrer=services.Referrer(kind="partner", partner=partner),
            data=data,
            submitted_by=user,
        )


@pytest.fixture
def registered(org):
    return make_tier(
        org,
        "Registered",
        0,
        commission_kind=CommissionKind.PERCENT_FIRST_YEAR,
        commission_percent=Decimal("10"),
    )


@pytest.fixture
def gold(org):
    return make_tier(
        org,
        "Gold",
        2,
        min_won_revenue=10_000_00,
        commission_kind=CommissionKind.PERCENT_FIRST_YEAR,
        commission_percent=Decimal("15"),
    )


@pytest.fixture
def program(org):
    return make_program(org)


@pytest.fixture
def partnerco(org, registered):
    return make_partner(org, "Partnerco", tier=registered, domain="partnerco.example")


@pytest.fixture
def rivalco(org, registered):
    return make_partner(org, "Rivalco", tier=registered, domain="rivalco.example")


@pytest.fixture
def pat(org, partnerco):
    return make_partner_user(org, partnerco, "pat@partnerco.example")


@pytest.fixture
def ria(org, rivalco):
    return make_partner_user(org, rivalco, "ria@rivalco.example")


@pytest.fixture
def globex_partner(other_org):
    tier = make_tier(other_org, "Registered", 0, commission_percent=Decimal("5"))
    return make_partner(other_org, "Globex partner", tier=tier)
