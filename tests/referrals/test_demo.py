from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.demo import seed_demo_organizations
from leadtrack.tenancy.models import Organization
from referrals.demo import seed_demo_referrals
from referrals.models import PartnerUser, Referral


def test_the_demo_program_is_seeded_once(db):
    seed_demo_organizations()
    first = seed_demo_referrals()
    again = seed_demo_referrals()
    assert first == {"tiers": 3, "programs": 5, "partners": 2, "partner_users": 2, "links": 2, "referrals": 3}
    assert set(again.values()) == {0}
    robotix = Organization.objects.get(slug="robotix")
    with tenant_context(robotix):
        assert PartnerUser.objects.count() == 2
        assert set(Referral.objects.values_list("status", flat=True)) == {"accepted"}


def test_without_the_demo_organization_nothing_happens(db):
    assert set(seed_demo_referrals().values()) == {0}
