from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Activity, ChannelType, Lead
from leads.regions import Region
from leadtrack.tenancy.context import tenant_context
from referrals import services, signals, tasks
from referrals.models import (
    CommissionKind,
    Partner,
    ProgramKind,
    ProgramRewardRule,
    Referral,
    ReferralStatus,
    RewardLedgerEntry,
    RewardStatus,
    TierChange,
)
from tests.factories import make_lead
from tests.referrals.conftest import make_partner, make_program, make_tier, submit


def win(org, lead_id, *, actor=None, amount=None, value_12m=None):
    from leads.services import lead_update

    with tenant_context(org):
        if value_12m is not None:
            lead_update(org=org, actor=actor, lead_id=lead_id, data={"value_12m": value_12m})
        return stage_move(org=org, actor=actor, lead_id=lead_id, to_stage=Stage.WON, amount=amount)


class TestSubmit:
    def test_it_creates_a_lead_with_the_partner_channel_source_and_protects_it(
        self, org, program, partnerco, pat
    ):
        submission = submit(org, partnerco, program, user=pat, notes="Talk to Nina about Q3.")
        referral = submission.referral
        assert submission.created
        with tenant_context(org):
            lead = Lead.objects.get(pk=referral.lead_id)
            assert lead.source.channel_type == ChannelType.PARTNER_REFERRAL
            assert lead.source.is_referral
            assert lead.campaign_id == program.campaign_id
            assert lead.notes == ""  # the partner's notes become a note activity, not internal notes
            assert Activity.objects.get(lead=lead).body == "Talk to Nina about Q3."
            assert list(referral.events.values_list("status", flat=True)) == ["submitted", "accepted"]
        assert referral.status == ReferralStatus.ACCEPTED
        assert referral.expires_at - referral.accepted_at == timedelta(days=90)

    def test_a_program_that_reviews_everything_keeps_it_submitted(self, org, partnerco):
        program = make_program(org, "Reviewed", auto_accept=False, protection_days=30)
        referral = submit(org, partnerco, program).referral
        assert referral.status == ReferralStatus.SUBMITTED
        assert referral.lead_id is not None
        with tenant_context(org):
            approved = services.referral_approve(org=org, actor=None, referral_id=referral.pk)
        assert approved.status == ReferralStatus.ACCEPTED
        assert approved.expires_at - approved.accepted_at == timedelta(days=30)

    def test_an_open_lead_with_the_company_domain_sends_it_to_review_without_a_duplicate(
        self, org, program, partnerco
    ):
        existing = make_lead(org, company="Bigcorp", contact_name="Old Contact", email="old@bigcorp.example")
        referral = submit(
            org, partnerco, program, company="Bigcorp Inc", email="new@bigcorp.example"
        ).referral
        assert referral.status == ReferralStatus.UNDER_REVIEW
        assert referral.lead_id is None
        assert referral.conflict_lead_id == existing.pk
        with tenant_context(org):
            assert Lead.objects.count() == 1

    def test_a_closed_lead_with_the_same_email_is_also_a_conflict(self, org, program, partnerco):
        existing = make_lead(org, email="nina@newco.example", contact_name="Nina")
        with tenant_context(org):
            stage_move(org=org, actor=None, lead_id=existing.pk, to_stage=Stage.DISQUALIFIED, reason="spam")
        referral = submit(org, partnerco, program).referral
        assert referral.status == ReferralStatus.UNDER_REVIEW
        assert referral.conflict_lead_id == existing.pk

    def test_another_partners_registration_is_a_conflict(self, org, program, partnerco, rivalco):
        first = submit(org, rivalco, program).referral
        second = submit(org, partnerco, program, email="boss@newco.example", contact_name="Boss").referral
        assert second.status == ReferralStatus.UNDER_REVIEW
        assert second.conflict_lead_id == first.lead_id

    def test_a_pending_registration_of_another_partner_is_a_conflict(self, org, program, partnerco, rivalco):
        make_lead(org, company="Bigcorp", email="x@bigcorp.example")
        pending = submit(org, rivalco, program, company="Bigcorp", email="a@bigcorp.example").referral
        assert pending.status == ReferralStatus.UNDER_REVIEW
        with tenant_context(org):
            Lead.objects.all().update(deleted_at=timezone.now())
        second = submit(org, partnerco, program, company="Bigcorp", email="b@bigcorp.example").referral
        assert second.status == ReferralStatus.UNDER_REVIEW
        assert second.conflict_referral_id == pending.pk

    def test_the_same_person_again_returns_the_existing_referral(self, org, program, partnerco):
        first = submit(org, partnerco, program)
        again = submit(org, partnerco, program, email="NINA@newco.example", company="Newco Ltd")
        assert not again.created
        assert again.referral.pk == first.referral.pk
        with tenant_context(org):
            assert Referral.objects.count() == 1
            assert Lead.objects.count() == 1

    def test_the_daily_cap_per_partner_holds(self, org, program):
        partner = make_partner(org, "Small", daily_referral_cap=2)
        submit(org, partner, program, email="a@one.example", company="One")
        submit(org, partner, program, email="b@two.example", company="Two")
        with pytest.raises(ValidationError, match="daily limit of 2"):
            submit(org, partner, program, email="c@three.example", company="Three")

    def test_input_is_kept_as_text(self, org, program, partnerco):
        notes = "ü" * 10_000
        referral = submit(
            org,
            partnerco,
            program,
            company="<b>Bold</b> & Co",
            contact_name="Zoë Ångström 山田",
            email="zoe+partners@bold.example",
            notes=notes,
        ).referral
        assert (referral.company, referral.contact_name, referral.email) == (
            "<b>Bold</b> & Co",
            "Zoë Ångström 山田",
            "zoe+partners@bold.example",
        )
        assert referral.notes == notes

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"notes": "x" * 10_001}, "notes"),
            ({"email": "not-an-email"}, "email"),
            ({"company": ""}, "company"),
            ({"country": "XX"}, "country"),
            ({"website": "javascript:alert(1)"}, "website"),
        ],
    )
    def test_bad_input_gets_field_errors(self, org, program, partnerco, data, field):
        with pytest.raises(ValidationError) as excinfo:
            submit(org, partnerco, program, **data)
        assert field in excinfo.value.message_dict

    def test_eligibility_certification_and_region(self, org, partnerco):
        certified_only = make_program(org, "Certified track", requires_certification=True)
        with pytest.raises(ValidationError, match="certified"):
            submit(org, partnerco, certified_only)
        europe = make_program(org, "Europe track", region=Region.EUROPE)
        with pytest.raises(ValidationError) as excinfo:
            submit(org, partnerco, europe, country="US")
        assert "country" in excinfo.value.message_dict
        assert submit(org, partnerco, europe, country="DE").referral.status == ReferralStatus.ACCEPTED

    def test_a_partner_cannot_use_a_customer_program(self, org, partnerco):
        customers = make_program(org, "Advocates", kind=ProgramKind.CUSTOMER)
        with pytest.raises(ValidationError):
            submit(org, partnerco, customers)

    def test_another_organizations_program_is_not_found(self, org, other_org, partnerco):
        foreign = make_program(other_org, "Globex program")
        with pytest.raises(Exception) as excinfo:
            submit(org, partnerco, foreign)
        assert type(excinfo.value).__name__ == "DoesNotExist"

    def test_signals_are_sent_after_commit(self, org, program, partnerco, django_capture_on_commit_callbacks):
        received = []
        signals.referral_created.connect(lambda **kw: received.append(("created", kw["status"])), weak=False)
        signals.referral_status_changed.connect(
            lambda **kw: received.append(("changed", kw["to_status"])), weak=False
        )
        try:
            with django_capture_on_commit_callbacks(execute=True):
                submit(org, partnerco, program)
                assert received == []
        finally:
            signals.referral_created.receivers.clear()
            signals.referral_status_changed.receivers.clear()
        assert ("created", "accepted") in received
        assert ("changed", "accepted") in received


class TestReview:
    def test_approve_links_the_existing_lead_and_starts_protection(self, org, program, partnerco, mike):
        existing = make_lead(org, company="Bigcorp", email="old@bigcorp.example")
        referral = submit(org, partnerco, program, company="Bigcorp", email="new@bigcorp.example").referral
        with tenant_context(org):
            approved = services.referral_approve(org=org, actor=mike, referral_id=referral.pk)
        assert approved.status == ReferralStatus.ACCEPTED
        assert approved.lead_id == existing.pk
        assert approved.reviewed_by == mike
        assert approved.expires_at > timezone.now() + timedelta(days=89)

    def test_approve_is_refused_while_another_registration_protects_the_lead(
        self, org, program, partnerco, rivalco
    ):
        submit(org, rivalco, program)
        second = submit(org, partnerco, program, email="boss@newco.example", contact_name="Boss").referral
        with tenant_context(org), pytest.raises(ValidationError, match="Rivalco"):
            services.referral_approve(org=org, actor=None, referral_id=second.pk)

    def test_reject_needs_a_reason_that_the_partner_sees(self, org, program, partnerco):
        make_lead(org, company="Bigcorp", email="old@bigcorp.example")
        referral = submit(org, partnerco, program, company="Bigcorp", email="new@bigcorp.example").referral
        with tenant_context(org):
            with pytest.raises(ValidationError):
                services.referral_reject(org=org, actor=None, referral_id=referral.pk, reason="  ")
            rejected = services.referral_reject(
                org=org, actor=None, referral_id=referral.pk, reason="Already a customer."
            )
        assert (rejected.status, rejected.rejection_reason) == (
            ReferralStatus.REJECTED,
            "Already a customer.",
        )

    def test_the_lead_stage_shows_through_in_progress(
        self, org, program, partnerco, django_capture_on_commit_callbacks
    ):
        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
            stage_move(org=org, actor=None, lead_id=referral.lead_id, to_stage=Stage.MQL)
        with tenant_context(org):
            referral.refresh_from_db()
        assert referral.status == ReferralStatus.IN_PROGRESS


class TestExpiry:
    def test_the_beat_job_expires_accepted_registrations_past_their_window(self, org, program, partnerco):
        due = submit(org, partnerco, program).referral
        moving = submit(org, partnerco, program, email="b@other.example", company="Other").referral
        fresh = submit(org, partnerco, program, email="c@third.example", company="Third").referral
        with tenant_context(org):
            Referral.objects.filter(pk__in=[due.pk, moving.pk]).update(
                expires_at=timezone.now() - timedelta(days=1)
            )
            stage_move(org=org, actor=None, lead_id=moving.lead_id, to_stage=Stage.MQL)
            services.referral_sync_with_lead(org=org, lead_id=moving.lead_id)
        tasks.referral_expire_all.delay()
        with tenant_context(org):
            statuses = dict(Referral.objects.values_list("pk", "status"))
        assert statuses == {
            due.pk: ReferralStatus.EXPIRED,
            moving.pk: ReferralStatus.IN_PROGRESS,
            fresh.pk: ReferralStatus.ACCEPTED,
        }

    def test_an_expired_registration_earns_nothing(
        self, org, program, partnerco, django_capture_on_commit_callbacks
    ):
        referral = submit(org, partnerco, program).referral
        with tenant_context(org):
            Referral.objects.filter(pk=referral.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
            services.referral_expire_due(org=org)
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=50_000_00)
        with tenant_context(org):
            assert not RewardLedgerEntry.objects.exists()


class TestRewards:
    def test_a_win_creates_one_pending_reward_of_the_tier_percent_of_first_year_value(
        self, org, program, partnerco, bob, django_capture_on_commit_callbacks
    ):
        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, actor=bob, amount=30_000_00, value_12m=24_000_55)
        # The same event delivered again (a retried task) changes nothing.
        tasks.referral_lead_stage_changed.delay(organization_id=org.pk, lead_id=referral.lead_id)
        tasks.referral_lead_stage_changed.delay(organization_id=org.pk, lead_id=referral.lead_id)
        with tenant_context(org):
            reward = RewardLedgerEntry.objects.get()
            referral.refresh_from_db()
        assert referral.status == ReferralStatus.WON
        assert (reward.status, reward.basis_amount, reward.amount) == (
            RewardStatus.PENDING,
            24_000_55,
            2_400_06,
        )
        assert (reward.tier_name, reward.commission_percent, reward.partner_id) == (
            "Registered",
            Decimal("10.00"),
            partnerco.pk,
        )

    def test_without_a_first_year_value_the_won_amount_is_the_basis(
        self, org, program, partnerco, django_capture_on_commit_callbacks
    ):
        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=1_000_00)
        with tenant_context(org):
            assert RewardLedgerEntry.objects.get().amount == 100_00

    def test_a_bounty_tier_pays_once_the_lead_reaches_sql(
        self, org, program, django_capture_on_commit_callbacks
    ):
        bounty = make_tier(
            org, "Bounty", 5, commission_kind=CommissionKind.BOUNTY_PER_SQL, bounty_amount=250_00
        )
        partner = make_partner(org, "Hunter", tier=bounty)
        referral = submit(org, partner, program).referral
        with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
            stage_move(org=org, actor=None, lead_id=referral.lead_id, to_stage=Stage.MQL)
        with tenant_context(org):
            assert not RewardLedgerEntry.objects.exists()
        with django_capture_on_commit_callbacks(execute=True), tenant_context(org):
            stage_move(org=org, actor=None, lead_id=referral.lead_id, to_stage=Stage.SQL)
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=9_000_00)
        with tenant_context(org):
            reward = RewardLedgerEntry.objects.get()
        assert (reward.commission_kind, reward.amount) == (CommissionKind.BOUNTY_PER_SQL, 250_00)

    def test_a_program_rule_for_tier_and_region_beats_the_tier_default(
        self, org, program, partnerco, registered, django_capture_on_commit_callbacks
    ):
        with tenant_context(org):
            for tier, region, percent in (
                (registered, "", 12),
                (registered, Region.EUROPE, 20),
                (None, "", 1),
            ):
                services.reward_rule_save(
                    org=org,
                    rule=ProgramRewardRule(
                        program=program,
                        tier=tier,
                        region=region,
                        commission_kind=CommissionKind.PERCENT_FIRST_YEAR,
                        commission_percent=Decimal(percent),
                    ),
                )
        eu = submit(org, partnerco, program, country="FR").referral
        us = submit(org, partnerco, program, country="US", email="b@us.example", company="Us").referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, eu.lead_id, amount=1_000_00)
            win(org, us.lead_id, amount=1_000_00)
        with tenant_context(org):
            amounts = dict(RewardLedgerEntry.objects.values_list("referral_id", "amount"))
        assert amounts == {eu.pk: 200_00, us.pk: 120_00}

    def test_approve_and_pay(self, org, program, partnerco, mike, django_capture_on_commit_callbacks):
        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=1_000_00)
        with tenant_context(org):
            reward = RewardLedgerEntry.objects.get()
            with pytest.raises(ValidationError):
                services.reward_mark_paid(org=org, actor=mike, reward_id=reward.pk)
            services.reward_approve(org=org, actor=mike, reward_id=reward.pk)
            paid = services.reward_mark_paid(org=org, actor=mike, reward_id=reward.pk, reference="SEPA-1")
        assert (paid.status, paid.payment_reference) == (RewardStatus.PAID, "SEPA-1")

    def test_the_database_refuses_a_second_reward_for_a_referral(
        self, org, program, partnerco, django_capture_on_commit_callbacks
    ):
        from django.db import IntegrityError

        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=1_000_00)
        with tenant_context(org):
            reward = RewardLedgerEntry.objects.get()
            reward.pk = None
            with pytest.raises(IntegrityError):
                reward.save()


class TestTiers:
    def test_nightly_recomputation_promotes_and_logs(
        self, org, program, partnerco, rivalco, gold, django_capture_on_commit_callbacks
    ):
        referral = submit(org, partnerco, program).referral
        with django_capture_on_commit_callbacks(execute=True):
            win(org, referral.lead_id, amount=12_000_00)
        tasks.partner_tiers_recompute_all.delay()
        with tenant_context(org):
            tiers = dict(Partner.objects.values_list("name", "tier__name"))
            change = TierChange.objects.filter(reason="Nightly recomputation").get()
            assert services.tiers_recompute(org=org) == []  # a second run changes nothing
        assert tiers == {"Partnerco": "Gold", "Rivalco": "Registered"}
        assert (change.partner_id, change.won_revenue, change.referral_count) == (partnerco.pk, 12_000_00, 1)

    def test_a_tier_needing_both_thresholds(self, org, program, partnerco, registered):
        make_tier(org, "Silver", 1, min_won_revenue=100, min_referrals=2, threshold_match="all")
        with tenant_context(org):
            assert services.tiers_recompute(org=org) == []


class TestLinksAndUsers:
    def test_a_customer_link_needs_a_won_customer_and_a_customer_program(self, org, program):
        advocates = make_program(org, "Advocates", kind=ProgramKind.CUSTOMER)
        open_lead = make_lead(org, email="c@cust.example")
        with tenant_context(org), pytest.raises(ValidationError):
            services.referral_link_create(org=org, program_id=advocates.pk, customer_lead_id=open_lead.pk)
        win(org, open_lead.pk, amount=100)
        with tenant_context(org):
            with pytest.raises(ValidationError):
                services.referral_link_create(org=org, program_id=program.pk, customer_lead_id=open_lead.pk)
            link = services.referral_link_create(
                org=org, program_id=advocates.pk, customer_lead_id=open_lead.pk
            )
        assert len(link.code) >= 16

    def test_only_partner_role_members_can_be_linked(self, org, partnerco, bob):
        with tenant_context(org), pytest.raises(ValidationError):
            services.partner_user_link(org=org, partner_id=partnerco.pk, user_id=bob.pk)
