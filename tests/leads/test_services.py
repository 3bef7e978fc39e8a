from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Activity, ActivityKind, Lead, LeadChange, Segment, Source
from leads.regions import Region
from leads.selectors import lead_get, lead_timeline, lead_visible_queryset
from leads.services import (
    DuplicateLeadError,
    StaleLeadError,
    activity_log,
    lead_merge,
    lead_update,
)
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership
from tests.factories import make_lead


class TestCreate:
    def test_it_derives_domain_region_segment_and_currency(self, org):
        lead = make_lead(org, contact_name="Ann", email=" Ann@WWW.Acme.io ", country="DE", employees=2500)
        assert (lead.email, lead.domain, lead.region, lead.segment, lead.currency) == (
            "ann@www.acme.io",
            "acme.io",
            Region.EUROPE,
            Segment.ENTERPRISE,
            "USD",
        )

    def test_free_mail_is_not_a_company_domain(self, org):
        assert make_lead(org, email="someone@gmail.com").domain == ""

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"country": "XX"}, "country"),
            ({"website": "javascript:alert(1)"}, "website"),
            ({"email": "not-an-email"}, "email"),
            ({"employees": -5}, "employees"),
            ({"stage": Stage.WON}, "stage"),
            ({"score": 100}, "score"),
        ],
    )
    def test_bad_input_is_a_field_error(self, org, data, field):
        with pytest.raises(ValidationError) as caught:
            make_lead(org, **data)
        assert field in caught.value.message_dict

    def test_a_source_of_another_organization_is_refused(self, org, other_org):
        with tenant_context(other_org):
            foreign = Source.objects.create(organization=other_org, name="Theirs")
        with pytest.raises(ValidationError) as caught:
            make_lead(org, source=foreign)
        assert "source" in caught.value.message_dict

    def test_the_owner_must_be_a_member(self, org, charlie):
        with pytest.raises(ValidationError) as caught:
            make_lead(org, owner=charlie)
        assert "owner" in caught.value.message_dict


class TestDeduplication:
    def test_same_email_in_any_case_is_a_duplicate(self, org):
        first = make_lead(org, email="jane@acme.io")
        with pytest.raises(DuplicateLeadError) as caught:
            make_lead(org, email="JANE@acme.io", company="Other")
        assert caught.value.existing.pk == first.pk

    def test_same_domain_and_contact_name_is_a_duplicate(self, org):
        make_lead(org, contact_name="Jane Roe", website="https://acme.io/about")
        with pytest.raises(DuplicateLeadError, match="company domain and contact name"):
            make_lead(org, contact_name="jane roe", email="jroe@acme.io")

    def test_other_organizations_do_not_count(self, org, other_org):
        make_lead(other_org, email="jane@acme.io")
        assert make_lead(org, email="jane@acme.io").pk

    def test_a_deleted_lead_frees_its_email(self, org):
        from leads.services import lead_delete

        first = make_lead(org, email="jane@acme.io")
        with tenant_context(org):
            lead_delete(org=org, actor=None, lead_id=first.pk)
        assert make_lead(org, email="jane@acme.io").pk != first.pk

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_creates_of_one_email_make_one_row(self, org):
        """D2: 10 racing creates of the same e-mail → 1 row, the rest get the existing lead."""
        barrier = threading.Barrier(10)
        outcomes: list[str] = []

        def create(n: int) -> None:
            try:
                barrier.wait()
                make_lead(org, email="race@acme.io", company=f"Racer {n}")
                outcomes.append("created")
            except DuplicateLeadError:
                outcomes.append("duplicate")
            finally:
                connection.close()

        threads = [threading.Thread(target=create, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with tenant_context(org):
            rows = Lead.objects.filter(email="race@acme.io").count()
        print(f"\n[D2] racers=10 rows={rows}")
        assert rows == 1 and sorted(outcomes) == ["created"] + ["duplicate"] * 9

    def test_merge_keeps_both_histories_on_the_primary(self, org, bob):
        primary = make_lead(org, email="jane@acme.io", company="Acme")
        duplicate = make_lead(org, email="j.roe@acme.io", company="Acme Corp", phone="+1 555 0100")
        with tenant_context(org):
            activity_log(org=org, actor=bob, lead_id=duplicate.pk, kind=ActivityKind.CALL)
            stage_move(org=org, actor=None, lead_id=duplicate.pk, to_stage=Stage.MQL)
            merged = lead_merge(org=org, actor=bob, primary_id=primary.pk, duplicate_id=duplicate.pk)
            assert merged.phone == "+1 555 0100"
            assert merged.reached_mql_at is not None
            assert Activity.objects.filter(lead=merged).count() == 1
            assert merged.transitions.count() == 3  # two creations and the move
            gone = Lead.objects.get(pk=duplicate.pk)
            assert gone.deleted_at is not None and gone.merged_into_id == merged.pk
            assert LeadChange.objects.filter(lead=merged, changes__has_key="merged_from").exists()


class TestUpdate:
    def test_it_records_who_changed_what(self, org, bob):
        lead = make_lead(org, company="Old name", country="US")
        with tenant_context(org):
            lead_update(org=org, actor=bob, lead_id=lead.pk, data={"company": "New name", "country": "FR"})
            change = LeadChange.objects.get(lead=lead)
        assert change.actor == bob
        assert change.changes == {
            "company": ["Old name", "New name"],
            "country": ["US", "FR"],
            "region": ["north_america", "europe"],
        }

    def test_a_stale_version_is_refused_and_nothing_is_overwritten(self, org):
        lead = make_lead(org, company="Original")
        with tenant_context(org):
            lead_update(org=org, actor=None, lead_id=lead.pk, data={"company": "First"}, expected_version=1)
            with pytest.raises(StaleLeadError):
                lead_update(
                    org=org, actor=None, lead_id=lead.pk, data={"company": "Second"}, expected_version=1
                )
            assert Lead.objects.get(pk=lead.pk).company == "First"

    def test_stage_and_score_are_not_writable_here(self, org):
        lead = make_lead(org)
        with tenant_context(org), pytest.raises(ValidationError) as caught:
            lead_update(org=org, actor=None, lead_id=lead.pk, data={"stage": Stage.WON, "score": 99})
        assert set(caught.value.message_dict) == {"stage", "score"}


class TestActivities:
    def test_the_first_outbound_touch_and_first_meeting_set_their_timestamps(self, org, bob):
        lead = make_lead(org)
        t0 = timezone.now() - timedelta(hours=5)
        with tenant_context(org):
            activity_log(org=org, actor=bob, lead_id=lead.pk, kind=ActivityKind.NOTE, occurred_at=t0)
            activity_log(
                org=org,
                actor=bob,
                lead_id=lead.pk,
                kind=ActivityKind.CALL,
                occurred_at=t0 + timedelta(hours=1),
            )
            activity_log(
                org=org,
                actor=bob,
                lead_id=lead.pk,
                kind=ActivityKind.EMAIL_SENT,
                occurred_at=t0 + timedelta(hours=2),
            )
            activity_log(
                org=org,
                actor=bob,
                lead_id=lead.pk,
                kind=ActivityKind.MEETING,
                occurred_at=t0 + timedelta(hours=3),
            )
            lead = Lead.objects.get(pk=lead.pk)
        assert lead.first_contacted_at == t0 + timedelta(hours=1)
        assert lead.first_meeting_at == t0 + timedelta(hours=3)

    def test_an_earlier_touch_logged_later_moves_the_timestamp_earlier(self, org):
        lead = make_lead(org)
        now = timezone.now()
        with tenant_context(org):
            activity_log(org=org, actor=None, lead_id=lead.pk, kind=ActivityKind.CALL, occurred_at=now)
            activity_log(
                org=org,
                actor=None,
                lead_id=lead.pk,
                kind=ActivityKind.CALL,
                occurred_at=now - timedelta(days=1),
            )
            activity_log(
                org=org,
                actor=None,
                lead_id=lead.pk,
                kind=ActivityKind.CALL,
                occurred_at=now + timedelta(minutes=1),
            )
            assert Lead.objects.get(pk=lead.pk).first_contacted_at == now - timedelta(days=1)

    def test_the_timeline_holds_activities_transitions_and_changes(self, org):
        lead = make_lead(org)
        with tenant_context(org):
            activity_log(org=org, actor=None, lead_id=lead.pk, kind=ActivityKind.NOTE, body="hello")
            lead_update(org=org, actor=None, lead_id=lead.pk, data={"phone": "123"})
            kinds = {kind for kind, _ in lead_timeline(org=org, lead=lead)}
        assert kinds == {"activity", "transition", "change"}


class TestVisibility:
    def test_a_rep_sees_own_leads_unless_the_organization_shares_them(self, org, alice, bob):
        own = make_lead(org, company="Bob's", owner=bob)
        make_lead(org, company="Alice's", owner=alice)
        with tenant_context(org):
            bob_membership = Membership.objects.get(user=bob)
            alice_membership = Membership.objects.get(user=alice)
            assert list(lead_visible_queryset(org=org, membership=bob_membership)) == [own]
            assert lead_visible_queryset(org=org, membership=alice_membership).count() == 2
            from leads.rules import lead_settings

            shared = lead_settings(org=org)
            shared.reps_see_all_leads = True
            shared.save()
            assert lead_visible_queryset(org=org, membership=bob_membership).count() == 2

    def test_an_invisible_lead_is_does_not_exist(self, org, alice, bob):
        hidden = make_lead(org, owner=alice)
        with tenant_context(org), pytest.raises(Lead.DoesNotExist):
            lead_get(org=org, membership=Membership.objects.get(user=bob), lead_id=hidden.pk)


def test_a_merge_that_would_collide_with_a_third_lead_is_refused_whole(org):
    third = make_lead(org, contact_name="Jane Roe", website="https://acme.io", company="Acme")
    primary = make_lead(org, contact_name="Jane Roe", company="Solo")  # no domain yet
    duplicate = make_lead(org, email="jr@beta.io", website="https://acme.io", company="Beta")
    with tenant_context(org), pytest.raises(DuplicateLeadError) as caught:
        lead_merge(org=org, actor=None, primary_id=primary.pk, duplicate_id=duplicate.pk)
    assert caught.value.existing.pk == third.pk
    with tenant_context(org):
        assert Lead.objects.get(pk=duplicate.pk).deleted_at is None
