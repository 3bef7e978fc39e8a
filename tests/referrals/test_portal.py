"""The partner portal: own data only, allowlisted fields only (T6), 404 for anything else."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from leads.services import lead_update
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from referrals.models import Referral, RewardLedgerEntry
from referrals.selectors import PORTAL_REFERRAL_FIELDS, PORTAL_REWARD_FIELDS
from tests.factories import UserFactory, add_member, make_lead, verify_second_factor
from tests.referrals.conftest import submit
from tests.referrals.test_services import win


def data_fields(html: str) -> set[str]:
    return set(re.findall(r'data-field="([a-z_]+)"', html))


@pytest.fixture
def two_partners_with_rewards(org, program, partnerco, rivalco, pat, ria, django_capture_on_commit_callbacks):
    """Each partner has one won referral with a reward; the lead carries internal data."""
    mine = submit(org, partnerco, program, user=pat, company="Mine Inc", email="m@mine.example").referral
    theirs = submit(org, rivalco, program, user=ria, company="Theirs Inc", email="t@theirs.example").referral
    with tenant_context(org):
        lead_update(org=org, actor=None, lead_id=mine.lead_id, data={"notes": "INTERNAL-NOTE-XYZ"})
    with django_capture_on_commit_callbacks(execute=True):
        win(org, mine.lead_id, amount=1_000_00)
        win(org, theirs.lead_id, amount=2_000_00)
    with tenant_context(org):
        rewards = {r.partner_id: r for r in RewardLedgerEntry.objects.all()}
    return mine, theirs, rewards


class TestScope:
    def test_a_partner_sees_only_their_own_referrals_and_rewards(
        self, login, org, pat, partnerco, rivalco, two_partners_with_rewards
    ):
        mine, theirs, rewards = two_partners_with_rewards
        client = login(pat)
        home = client.get("/o/acme/portal/").content.decode()
        assert "Mine Inc" in home and "Theirs Inc" not in home and "Rivalco" not in home
        assert client.get(f"/o/acme/portal/referrals/{mine.pk}/").status_code == 200
        assert client.get(f"/o/acme/portal/referrals/{theirs.pk}/").status_code == 404
        assert client.get(f"/o/acme/portal/rewards/{rewards[partnerco.pk].pk}/").status_code == 200
        assert client.get(f"/o/acme/portal/rewards/{rewards[rivalco.pk].pk}/").status_code == 404
        page = client.get("/o/acme/portal/rewards/").content.decode()
        assert "100.00" in page and "200.00" not in page

    def test_a_partner_gets_404_for_leads_partners_and_anything_internal_with_an_id(
        self, login, org, pat, rivalco, two_partners_with_rewards
    ):
        mine, _, rewards = two_partners_with_rewards
        client = login(pat)
        for path in (
            f"/o/acme/portal/referrals/{mine.lead_id}0/",
            f"/o/acme/referrals/{mine.pk}/",
            f"/o/acme/referrals/partners/{rivalco.pk}/",
            f"/o/acme/leads/{mine.lead_id}/",
            f"/o/acme/portal/rewards/{rewards[rivalco.pk].pk + 1000}/",
        ):
            assert client.get(path).status_code in (403, 404), path

    def test_another_organizations_partner_sees_nothing_here(
        self, login, other_org, globex_partner, two_partners_with_rewards
    ):
        from tests.referrals.conftest import make_partner_user

        mine, _, rewards = two_partners_with_rewards
        outsider = make_partner_user(other_org, globex_partner, "gp@globex.example")
        client = login(outsider)
        assert client.get("/o/acme/portal/").status_code == 404
        assert client.get(f"/o/globex/portal/referrals/{mine.pk}/").status_code == 404
        assert client.get(f"/o/globex/portal/rewards/{next(iter(rewards.values())).pk}/").status_code == 404

    def test_an_unlinked_partner_user_sees_a_notice_and_no_data(self, login, org, two_partners_with_rewards):
        mine, _, _ = two_partners_with_rewards
        user = UserFactory()
        add_member(org, user, Role.PARTNER)
        client = login(user)
        assert "not tied to a partner" in client.get("/o/acme/portal/").content.decode()
        assert client.get("/o/acme/portal/referrals.json").json() == {"referrals": []}
        assert client.get(f"/o/acme/portal/referrals/{mine.pk}/").status_code == 404


def _internal_routes() -> list[str]:
    routes = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                permission = getattr(entry.callback, "required_permission", None)
                if permission and permission != "portal.use" and route.startswith("o/<slug:org_slug>/"):
                    routes.append(route)

    walk(get_resolver().url_patterns)
    return routes


def test_a_partner_cannot_reach_any_internal_page(login, org, pat, two_partners_with_rewards):
    mine, _, _ = two_partners_with_rewards
    client = login(pat)
    reached = []
    routes = _internal_routes()
    for route in routes:
        path = "/" + re.sub(r"<slug:org_slug>", "acme", route)
        path = re.sub(r"<int:[a-z_]+>", str(mine.pk), path)
        path = re.sub(r"<[a-z]+:[a-z_]+>", "x", path)
        for method in ("get", "post"):
            status = getattr(client, method)(path).status_code
            if status not in (403, 404, 405):
                reached.append((method, path, status))
    print(f"\n[T5] partner vs internal routes={len(routes)} reached={len(reached)}")
    assert routes and reached == []


class TestAllowlist:
    def test_t6_json_and_pages_carry_exactly_the_allowlisted_fields(
        self, login, org, pat, partnerco, two_partners_with_rewards
    ):
        mine, _, rewards = two_partners_with_rewards
        client = login(pat)
        rows = client.get("/o/acme/portal/referrals.json").json()["referrals"]
        assert [set(row) for row in rows] == [set(PORTAL_REFERRAL_FIELDS)]
        home = client.get("/o/acme/portal/").content.decode()
        detail = client.get(f"/o/acme/portal/referrals/{mine.pk}/").content.decode()
        reward_pages = client.get("/o/acme/portal/rewards/").content.decode()
        reward_detail = client.get(f"/o/acme/portal/rewards/{rewards[partnerco.pk].pk}/").content.decode()
        exposed = data_fields(home) | data_fields(detail)
        print(f"\n[T6] referral fields exposed={len(exposed)} allowlist={len(PORTAL_REFERRAL_FIELDS)}")
        assert data_fields(home) == set(PORTAL_REFERRAL_FIELDS)
        assert data_fields(detail) <= set(PORTAL_REFERRAL_FIELDS)
        assert data_fields(reward_pages) == set(PORTAL_REWARD_FIELDS)
        assert data_fields(reward_detail) == set(PORTAL_REWARD_FIELDS)
        for page in (home, detail, reward_pages, reward_detail):
            assert "INTERNAL-NOTE-XYZ" not in page
            assert "Score" not in page and "Owner" not in page
            assert "Rivalco" not in page


class TestSubmitForm:
    def test_the_form_escapes_and_accepts_unicode_plus_addresses_and_10kb_notes(
        self, login, org, pat, program
    ):
        client = login(pat)
        assert client.get("/o/acme/portal/referrals/new/").status_code == 200
        response = client.post(
            "/o/acme/portal/referrals/new/",
            {
                "program": program.pk,
                "company": "<script>alert(1)</script> GmbH",
                "contact_name": "Zoë <b>Ångström</b>",
                "email": "zoe+partner@evil.example",
                "notes": "n" * 10_000,
            },
            follow=True,
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt; GmbH" in page
        assert "<script>alert(1)" not in page
        with tenant_context(org):
            referral = Referral.objects.get()
        assert referral.email == "zoe+partner@evil.example"
        assert referral.status == "accepted"

    def test_too_long_notes_and_bad_email_are_field_errors(self, login, org, pat, program):
        client = login(pat)
        response = client.post(
            "/o/acme/portal/referrals/new/",
            {
                "program": program.pk,
                "company": "X",
                "contact_name": "Y",
                "email": "nope",
                "notes": "n" * 10_001,
            },
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert set(errors) == {"email", "notes"}
        with tenant_context(org):
            assert not Referral.objects.exists()

    def test_a_known_company_shows_under_review(self, login, org, pat, program):
        make_lead(org, company="Bigcorp", email="old@bigcorp.example")
        client = login(pat)
        response = client.post(
            "/o/acme/portal/referrals/new/",
            {
                "program": program.pk,
                "company": "Bigcorp",
                "contact_name": "New",
                "email": "new@bigcorp.example",
            },
            follow=True,
        )
        assert "Under review" in response.content.decode()

    def test_another_organizations_program_id_is_a_field_error(self, login, org, other_org, pat, program):
        from tests.referrals.conftest import make_program

        foreign = make_program(other_org, "Globex program")
        response = login(pat).post(
            "/o/acme/portal/referrals/new/",
            {"program": foreign.pk, "company": "X", "contact_name": "Y", "email": "y@x.example"},
        )
        assert response.status_code == 200
        assert "program" in response.context["form"].errors


def test_portal_and_partner_list_queries_do_not_grow_with_referrals(org, pat, mike, program, partnerco):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    partner_client, manager_client = Client(), Client()
    partner_client.force_login(pat, backend="django.contrib.auth.backends.ModelBackend")
    verify_second_factor(partner_client, pat)
    manager_client.force_login(mike, backend="django.contrib.auth.backends.ModelBackend")

    verify_second_factor(manager_client, mike)

    def counts() -> tuple[int, int]:
        partner_client.get("/o/acme/portal/")  # warm the session
        with CaptureQueriesContext(connection) as portal:
            assert partner_client.get("/o/acme/portal/").status_code == 200
        manager_client.get("/o/acme/referrals/partners/")
        with CaptureQueriesContext(connection) as manager:
            assert manager_client.get("/o/acme/referrals/partners/").status_code == 200
        return len(portal), len(manager)

    submit(org, partnerco, program, email="one@one.example", company="One")
    few = counts()
    for n in range(15):
        submit(org, partnerco, program, email=f"p{n}@many{n}.example", company=f"Many {n}")
    many = counts()
    print(
        f"\n[perf] queries portal home 1 vs 16 referrals={few[0]}/{many[0]}; partner list={few[1]}/{many[1]}"
    )
    assert few == many
