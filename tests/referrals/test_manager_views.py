"""The partner manager's pages and employee referrals: roles, ownership (404), the review flow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadtrack.tenancy.context import tenant_context
from referrals.models import (
    CommissionKind,
    Partner,
    PartnerTier,
    Program,
    ProgramKind,
    Referral,
    ReferralLink,
    ReferralStatus,
    RewardLedgerEntry,
    RewardStatus,
)
from tests.factories import make_lead
from tests.referrals.conftest import make_partner, make_program, make_tier, submit
from tests.referrals.test_services import win


@pytest.fixture
def acme_objects(org, program, partnerco, registered, django_capture_on_commit_callbacks):
    referral = submit(org, partnerco, program).referral
    with django_capture_on_commit_callbacks(execute=True):
        win(org, referral.lead_id, amount=1_000_00)
    with tenant_context(org):
        reward = RewardLedgerEntry.objects.get()
    return {
        "referral": referral,
        "partner": partnerco,
        "tier": registered,
        "program": program,
        "reward": reward,
    }


def id_urls(objects) -> list[tuple[str, str]]:
    r, p, t, g, w = (objects[k].pk for k in ("referral", "partner", "tier", "program", "reward"))
    return [
        ("get", f"referrals/{r}/"),
        ("post", f"referrals/{r}/approve/"),
        ("post", f"referrals/{r}/reject/"),
        ("get", f"referrals/partners/{p}/"),
        ("post", f"referrals/partners/{p}/"),
        ("post", f"referrals/partners/{p}/users/"),
        ("post", f"referrals/partners/{p}/links/"),
        ("get", f"referrals/tiers/{t}/"),
        ("post", f"referrals/tiers/{t}/"),
        ("get", f"referrals/programs/{g}/"),
        ("post", f"referrals/programs/{g}/"),
        ("post", f"referrals/programs/{g}/rules/"),
        ("post", f"referrals/rewards/{w}/approve/"),
        ("post", f"referrals/rewards/{w}/pay/"),
        ("get", f"portal/referrals/{r}/"),
        ("get", f"portal/rewards/{w}/"),
    ]


def test_every_url_with_an_id_answers_404_to_another_organization(login, org, charlie, acme_objects):
    client = login(charlie)
    urls = id_urls(acme_objects)
    leaks = []
    for method, path in urls:
        response = getattr(client, method)(f"/o/globex/{path}", {"reason": "x", "name": "Hijack"})
        if response.status_code not in (403, 404):
            leaks.append((method, path, response.status_code))
    print(f"\n[T1] referral URLs with ids={len(urls)} cross-tenant non-404={len(leaks)}")
    assert leaks == []
    with tenant_context(org):
        assert Partner.objects.get().name == "Partnerco"
        assert RewardLedgerEntry.objects.get().status == RewardStatus.PENDING


def test_every_url_with_an_id_answers_the_manager_of_the_organization(login, mike, acme_objects):
    client = login(mike)
    for method, path in id_urls(acme_objects):
        if method == "get" and not path.startswith("portal/"):
            assert client.get(f"/o/acme/{path}").status_code == 200, path


def test_a_sales_rep_may_refer_but_not_manage(login, org, bob, acme_objects):
    client = login(bob)
    assert client.get("/o/acme/referrals/").status_code == 403
    assert client.post(f"/o/acme/referrals/{acme_objects['referral'].pk}/approve/").status_code == 403
    assert client.get("/o/acme/portal/").status_code == 403
    response = client.post(
        "/o/acme/referrals/new/",
        {"company": "Friendco", "contact_name": "Fred", "email": "fred@friendco.example"},
        follow=True,
    )
    assert "Thank you for referring Friendco" in response.content.decode()
    with tenant_context(org):
        referral = Referral.objects.get(company="Friendco")
        assert (referral.referrer_kind, referral.referring_employee, referral.lead.source.channel_type) == (
            "employee",
            bob,
            "employee_referral",
        )
        assert referral.program.kind == ProgramKind.EMPLOYEE


class TestReviewFlow:
    def test_the_manager_approves_a_conflict_and_it_is_protected(self, login, org, mike, program, partnerco):
        existing = make_lead(org, company="Bigcorp", email="old@bigcorp.example")
        referral = submit(org, partnerco, program, company="Bigcorp", email="new@bigcorp.example").referral
        client = login(mike)
        queue = client.get("/o/acme/referrals/review/").content.decode()
        assert "Bigcorp" in queue and "An open lead has this company" in queue
        response = client.post(f"/o/acme/referrals/{referral.pk}/approve/", follow=True)
        assert "accepted" in response.content.decode()
        with tenant_context(org):
            referral.refresh_from_db()
        assert (referral.status, referral.lead_id) == (ReferralStatus.ACCEPTED, existing.pk)
        assert referral.expires_at is not None

    def test_the_manager_rejects_with_a_reason(self, login, org, mike, program, partnerco):
        make_lead(org, company="Bigcorp", email="old@bigcorp.example")
        referral = submit(org, partnerco, program, company="Bigcorp", email="new@bigcorp.example").referral
        client = login(mike)
        client.post(f"/o/acme/referrals/{referral.pk}/reject/", {"reason": ""})
        with tenant_context(org):
            referral.refresh_from_db()
            assert referral.status == ReferralStatus.UNDER_REVIEW
        client.post(f"/o/acme/referrals/{referral.pk}/reject/", {"reason": "<i>Existing customer</i>"})
        with tenant_context(org):
            referral.refresh_from_db()
        assert (referral.status, referral.rejection_reason) == (
            ReferralStatus.REJECTED,
            "<i>Existing customer</i>",
        )


class TestAdministration:
    def test_partners_tiers_programs_rules_links_and_users_are_managed_in_pages(self, login, org, mike):
        from leadtrack.tenancy.roles import Role
        from tests.factories import UserFactory, add_member

        client = login(mike)
        client.post(
            "/o/acme/referrals/tiers/",
            {
                "name": "Silver",
                "rank": 1,
                "threshold_match": "any",
                "commission_kind": "percent_first_year",
                "commission_percent": "12.5",
                "bounty_amount": 0,
                "min_referrals": 3,
            },
        )
        with tenant_context(org):
            tier = PartnerTier.objects.get()
        assert tier.commission_percent == Decimal("12.5")
        client.post(
            "/o/acme/referrals/programs/",
            {
                "name": "Resellers",
                "kind": "partner",
                "protection_days": 60,
                "active": "on",
                "auto_accept": "on",
            },
        )
        with tenant_context(org):
            program = Program.objects.select_related("campaign").get()
        assert program.campaign.name == "Referral program: Resellers"
        client.post(
            f"/o/acme/referrals/programs/{program.pk}/rules/",
            {
                "tier": tier.pk,
                "region": "europe",
                "commission_kind": "bounty_per_sql",
                "commission_percent": 0,
                "bounty_amount": 5000,
            },
        )
        response = client.post(
            "/o/acme/referrals/partners/",
            {"name": "<b>Acme Resale</b>", "status": "active", "tier": tier.pk, "daily_referral_cap": 10},
            follow=True,
        )
        assert "&lt;b&gt;Acme Resale&lt;/b&gt;" in response.content.decode()
        with tenant_context(org):
            partner = Partner.objects.get()
            assert program.reward_rules.get().bounty_amount == 5000
            assert partner.tier_changes.get().to_tier == tier
        person = UserFactory(email="pp@resale.example")
        add_member(org, person, Role.PARTNER)
        client.post(f"/o/acme/referrals/partners/{partner.pk}/users/", {"user": person.pk})
        client.post(f"/o/acme/referrals/partners/{partner.pk}/links/", {"program": program.pk})
        with tenant_context(org):
            assert partner.users.get().user == person
            assert ReferralLink.objects.get().partner == partner

    def test_a_form_cannot_attach_another_organizations_tier(self, login, org, other_org, mike):
        foreign = make_tier(other_org, "Foreign", 0)
        response = login(mike).post(
            "/o/acme/referrals/partners/",
            {"name": "P", "status": "active", "tier": foreign.pk, "daily_referral_cap": 5},
        )
        assert "tier" in response.context["form"].errors

    def test_rewards_are_approved_then_paid(self, login, org, mike, acme_objects):
        client = login(mike)
        reward = acme_objects["reward"]
        assert "100.00" in client.get("/o/acme/referrals/rewards/").content.decode()
        client.post(f"/o/acme/referrals/rewards/{reward.pk}/approve/")
        client.post(f"/o/acme/referrals/rewards/{reward.pk}/pay/", {"reference": "INV-7"})
        with tenant_context(org):
            reward.refresh_from_db()
        assert (reward.status, reward.payment_reference) == (RewardStatus.PAID, "INV-7")

    def test_overview_and_partner_list_show_performance(self, login, org, mike, acme_objects):
        client = login(mike)
        overview = client.get("/o/acme/referrals/").content.decode()
        assert "Partnerco" in overview  # leaderboard
        partners = client.get("/o/acme/referrals/partners/")
        partner = next(p for p in partners.context["partners"] if p.name == "Partnerco")
        assert (partner.referral_count, partner.won_count, partner.revenue, partner.reward_total) == (
            1,
            1,
            1_000_00,
            100_00,
        )

    def test_a_customer_advocate_link_is_created_by_e_mail(self, login, org, mike):
        make_program(org, "Advocates", kind=ProgramKind.CUSTOMER)
        customer = make_lead(org, email="happy@customer.example")
        win(org, customer.pk, amount=100)
        client = login(mike)
        with tenant_context(org):
            program = Program.objects.get(kind=ProgramKind.CUSTOMER)
        client.post(
            "/o/acme/referrals/links/", {"program": program.pk, "customer_email": "HAPPY@customer.example"}
        )
        with tenant_context(org):
            assert ReferralLink.objects.get().customer_id == customer.pk


def test_a_bounty_partner_and_percent_partner_in_one_program(
    org, program, django_capture_on_commit_callbacks
):
    bounty = make_tier(org, "Bounty", 7, commission_kind=CommissionKind.BOUNTY_PER_SQL, bounty_amount=100_00)
    partner = make_partner(org, "Bountyco", tier=bounty)
    referral = submit(org, partner, program).referral
    with django_capture_on_commit_callbacks(execute=True):
        win(org, referral.lead_id, amount=5_000_00)
    with tenant_context(org):
        assert RewardLedgerEntry.objects.get().amount == 100_00
