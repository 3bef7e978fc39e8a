from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command

from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.demo import DEMO_PEOPLE
from leadtrack.tenancy.models import Invitation, Membership, Organization
from leadtrack.tenancy.roles import Role
from tests.factories import verify_second_factor


def _invitation_link() -> str:
    return re.search(r"http://\S+", mail.outbox[-1].body).group(0).replace("http://127.0.0.1:8000", "")


class TestInvitations:
    def test_an_admin_invites_and_the_person_joins_with_that_role(
        self, client, login, alice, org, django_capture_on_commit_callbacks
    ):
        login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/o/{org.slug}/settings/members/", {"email": "New@Example.com", "role": Role.MANAGER}
            )
        assert response.status_code == 302
        assert mail.outbox[-1].to == ["new@example.com"]
        link = _invitation_link()
        client.logout()

        assert client.get(link).status_code == 200  # landing page for a stranger
        response = client.post(
            "/accounts/signup/",
            {
                "email": "new@example.com",
                "full_name": "Newt",
                "password": "a-long-enough-passphrase",
                "password_confirm": "a-long-enough-passphrase",
            },
        )
        assert response["Location"] == link
        response = client.post(link)
        assert response.status_code == 302
        with tenant_context(org):
            assert Membership.objects.get(user__email="new@example.com").role == Role.MANAGER
        # Single use.
        assert client.get(link).status_code == 404

    def test_an_invitation_for_another_email_is_refused(
        self, client, login, alice, bob, org, django_capture_on_commit_callbacks
    ):
        login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"/o/{org.slug}/settings/members/", {"email": "someone@example.com", "role": Role.VIEWER}
            )
        link = _invitation_link()
        login(bob)
        client.post(link)
        with tenant_context(org):
            assert Membership.objects.get(user=bob).role == Role.SALES_REP
            assert Invitation.objects.get().accepted_at is None

    def test_an_expired_invitation_cannot_be_used(
        self, client, login, alice, org, django_capture_on_commit_callbacks
    ):
        login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                f"/o/{org.slug}/settings/members/", {"email": "late@example.com", "role": Role.VIEWER}
            )
        link = _invitation_link()
        with tenant_context(org):
            Invitation.objects.update(expires_at="2000-01-01T00:00:00Z")
        assert client.get(link).status_code == 404

    def test_a_token_of_one_organization_is_unknown_in_another(
        self, client, login, alice, org, other_org, django_capture_on_commit_callbacks
    ):
        login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/o/{org.slug}/settings/members/", {"email": "x@example.com", "role": Role.VIEWER})
        link = _invitation_link().replace(f"/{org.slug}/", f"/{other_org.slug}/")
        assert client.get(link).status_code == 404

    def test_a_sales_rep_cannot_invite(self, client, login, bob, org):
        login(bob)
        response = client.post(
            f"/o/{org.slug}/settings/members/", {"email": "x@example.com", "role": Role.ADMIN}
        )
        assert response.status_code == 403
        with tenant_context(org):
            assert not Invitation.objects.exists()


class TestMembers:
    def test_an_admin_changes_a_role_and_removes_a_member(self, client, login, alice, bob, org):
        login(alice)
        with tenant_context(org):
            bob_membership = Membership.objects.get(user=bob)
        client.post(f"/o/{org.slug}/settings/members/{bob_membership.pk}/role/", {"role": Role.MANAGER})
        with tenant_context(org):
            assert Membership.objects.get(pk=bob_membership.pk).role == Role.MANAGER
        client.post(f"/o/{org.slug}/settings/members/{bob_membership.pk}/remove/")
        with tenant_context(org):
            assert not Membership.objects.filter(pk=bob_membership.pk).exists()
        login(bob)
        assert client.get(f"/o/{org.slug}/").status_code == 404

    def test_the_last_admin_stays(self, client, login, alice, org):
        login(alice)
        with tenant_context(org):
            own = Membership.objects.get(user=alice)
        response = client.post(
            f"/o/{org.slug}/settings/members/{own.pk}/role/", {"role": Role.VIEWER}, follow=True
        )
        assert "at least one admin" in response.content.decode()
        client.post(f"/o/{org.slug}/settings/members/{own.pk}/remove/")
        with tenant_context(org):
            assert Membership.objects.get(pk=own.pk).role == Role.ADMIN


class TestSignupCreatesAnOrganization:
    def test_a_new_person_signs_up_and_becomes_admin_of_their_organization(self, client, db):
        response = client.post(
            "/accounts/signup/",
            {
                "email": "founder@startup.example",
                "full_name": "Fay Founder",
                "password": "a-long-enough-passphrase",
                "password_confirm": "a-long-enough-passphrase",
            },
        )
        assert response["Location"] == "/organizations/new/"
        response = client.post(
            "/organizations/new/",
            {"name": "Startup", "slug": "startup", "time_zone": "Europe/Paris", "currency": "eur"},
        )
        assert response.status_code == 302
        organization = Organization.objects.get(slug="startup")
        assert (organization.time_zone, organization.currency) == ("Europe/Paris", "EUR")
        with tenant_context(organization):
            assert Membership.objects.get().role == Role.ADMIN

    def test_a_taken_slug_is_a_field_error(self, client, login, alice, org):
        login(alice)
        response = client.post(
            "/organizations/new/", {"name": "Again", "slug": org.slug, "time_zone": "UTC", "currency": "USD"}
        )
        assert response.status_code == 200
        assert "This address is taken." in response.content.decode()

    def test_a_weak_password_is_a_field_error(self, client, db):
        response = client.post(
            "/accounts/signup/",
            {
                "email": "weak@example.com",
                "password": "password",
                "password_confirm": "password",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["password"]
        assert not User.objects.filter(email="weak@example.com").exists()


class TestOperatorCommands:
    def test_create_organization_prints_a_one_time_link(self, client, db, capsys):
        call_command("create_organization", slug="ops", name="Ops Co", admin_email="boss@ops.example")
        output = capsys.readouterr().out
        link = re.search(r"http://\S+", output).group(0).replace("http://127.0.0.1:8000", "")
        response = client.get(link, follow=True)
        assert response.context["validlink"]
        set_url = response.redirect_chain[-1][0]
        client.post(
            set_url, {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"}
        )
        assert User.objects.get(email="boss@ops.example").check_password("brand-new-passphrase")
        assert client.get(link, follow=True).context["validlink"] is False

    def test_seed_demo_is_idempotent(self, db, capsys):
        call_command("seed_demo", quiet_logins=True)
        call_command("seed_demo", quiet_logins=True)
        assert "0 organizations created, 0 users created, 0 memberships created" in capsys.readouterr().out
        assert Organization.objects.filter(slug__in=["robotix", "northwind"]).count() == 2
        from referrals.demo import DEMO_PARTNERS

        assert User.objects.count() == len(DEMO_PEOPLE) + len(DEMO_PARTNERS)
        with tenant_context(Organization.objects.get(slug="robotix")):
            roles = set(Membership.objects.values_list("role", flat=True))
        assert {Role.ADMIN, Role.MANAGER, Role.SALES_REP, Role.VIEWER} <= roles


@pytest.mark.parametrize("path", ["/", "/organizations/new/"])
def test_pages_outside_an_organization_need_a_login(client, db, path):
    assert client.get(path).status_code == 302


def test_a_partner_lands_in_the_portal_not_on_internal_pages(client, org):
    from tests.factories import UserFactory, add_member

    partner = UserFactory()
    add_member(org, partner, Role.PARTNER)
    client.force_login(partner, backend="django.contrib.auth.backends.ModelBackend")
    verify_second_factor(client, partner)
    assert client.get("/")["Location"] == f"/o/{org.slug}/portal/"
    assert client.get(f"/o/{org.slug}/")["Location"] == f"/o/{org.slug}/portal/"
    assert client.get(f"/o/{org.slug}/settings/members/").status_code == 403
