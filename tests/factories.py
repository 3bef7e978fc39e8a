from __future__ import annotations

import factory

from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    time_zone = "UTC"
    currency = "USD"


def add_member(organization: Organization, user: User, role: str = Role.SALES_REP) -> Membership:
    """Membership rows are tenant-owned: create them inside the organization."""
    from leadtrack.tenancy.context import tenant_context

    with tenant_context(organization):
        return Membership.objects.create(organization=organization, user=user, role=role)


def make_lead(org, *, actor=None, **data):
    """Create a lead through the real service, inside the organization."""
    from leads.services import lead_create
    from leadtrack.tenancy.context import tenant_context

    data.setdefault("company", "Initech")
    with tenant_context(org):
        return lead_create(org=org, actor=actor, data=data)


def verify_second_factor(client, user) -> None:
    """Finish a signed-in test client's session as the second-factor page would.

    The person gets a real confirmed authenticator (the A7 tests drive the pages themselves);
    the session then remembers it, as after a successful code.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from leadtrack.accounts import mfa

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    session = client.session
    session[mfa.SESSION_KEY] = device.persistent_id
    session.save()
