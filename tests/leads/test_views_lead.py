"""The lead page (details, timeline, activities, stage moves, history) and the create/edit forms."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Activity, ActivityKind, Lead, LeadChange, LeadSettings, Source
from leads.services import activity_log, lead_update
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

NEW = "/o/acme/leads/new/"


def _page(lead) -> str:
    return f"/o/acme/leads/{lead.pk}/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _get(org, lead) -> Lead:
    with tenant_context(org):
        return Lead.objects.get(pk=lead.pk)


def _reps_see_all(org) -> None:
    with tenant_context(org):
        LeadSettings.objects.update_or_create(organization=org, defaults={"reps_see_all_leads": True})


class TestLeadPageAccess:
    @pytest.mark.parametrize("suffix", ["", "edit/", "history/"])
    def test_another_organizations_lead_is_404_in_every_url(self, login, org, other_org, mike, suffix):
        foreign = make_lead(other_org, company="Theirs")
        assert login(mike).get(_page(foreign) + suffix).status_code == 404

    @pytest.mark.parametrize("suffix", ["activities/", "move/"])
    def test_posts_about_another_organizations_lead_are_404(self, login, org, other_org, mike, suffix):
        foreign = make_lead(other_org, company="Theirs")
        response = login(mike).post(_page(foreign) + suffix, {"kind": "call", "to_stage": "mql"})
        assert response.status_code == 404

    def test_a_rep_cannot_see_a_colleagues_lead_and_cannot_edit_it_when_the_team_is_visible(
        self, login, org, bob, mike
    ):
        theirs = make_lead(org, company="Mike's", owner=mike)
        client = login(bob)
        assert client.get(_page(theirs)).status_code == 404
        _reps_see_all(org)
        response = client.get(_page(theirs))
        assert response.status_code == 200 and not response.context["can_edit"]
        assert b"Log call" not in response.content
        assert client.get(_page(theirs) + "edit/").status_code == 403
        assert client.post(_page(theirs) + "activities/", {"kind": "call"}).status_code == 403

    def test_a_viewer_reads_without_forms(self, login, org, vera):
        lead = make_lead(org, company="Readable")
        response = login(vera).get(_page(lead))
        assert response.status_code == 200
        assert b"Readable" in response.content and b"Log call" not in response.content
        assert login(vera).get(_page(lead) + "edit/").status_code == 403

    def test_a_deleted_or_unknown_lead_is_404(self, login, org, mike):
        from leads.services import lead_delete

        lead = make_lead(org)
        with tenant_context(org):
            lead_delete(org=org, actor=None, lead_id=lead.pk)
        assert login(mike).get(_page(lead)).status_code == 404
        assert login(mike).get("/o/acme/leads/987654321/").status_code == 404


class TestTimelineAndActivities:
    def test_the_page_shows_activities_transitions_and_changes_with_who(self, login, org, bob, mike):
        lead = make_lead(org, company="Initech", owner=bob, actor=bob)
        with tenant_context(org):
            activity_log(org=org, actor=bob, lead_id=lead.pk, kind=ActivityKind.CALL, subject="Intro call")
            stage_move(org=org, actor=mike, lead_id=lead.pk, to_stage=Stage.MQL)
            lead_update(
                org=org, actor=mike, lead_id=lead.pk, data={"phone": "+49 30 1234", "expected_amount": 125050}
            )
        response = login(bob).get(_page(lead))
        kinds = [kind for kind, _ in response.context["timeline"]]
        assert sorted(kinds) == ["activity", "change", "transition", "transition"]
        text = response.content.decode()
        for expected in ("Intro call", "Bob Rep", "Lead → MQL", "Mike Manager", "+49 30 1234", "1,250.50"):
            assert expected in text

    def test_logging_a_call_takes_one_click_and_sets_first_contact(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(_page(lead) + "activities/", {"kind": "call", "subject": "", "body": ""})
        assert response.status_code == 302 and response["Location"] == _page(lead)
        assert _messages(response) == ["Call logged."]
        with tenant_context(org):
            activity = Activity.objects.get(lead=lead)
        assert (activity.kind, activity.actor) == (ActivityKind.CALL, bob)
        assert _get(org, lead).first_contacted_at == activity.occurred_at

    def test_the_script_gets_the_refreshed_timeline_alone(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(
            _page(lead) + "activities/", {"kind": "meeting", "subject": "Kick-off"}, HTTP_X_PARTIAL="timeline"
        )
        assert response.status_code == 200
        text = response.content.decode()
        assert "Kick-off" in text and "<html" not in text and "Meeting" in text

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"kind": "note"}, "body"),
            ({"kind": "page_visit"}, "kind"),
            ({"kind": "call", "occurred_at": "soon"}, "occurred_at"),
            ({"kind": "call", "occurred_at": "2999-01-01T10:00"}, "occurred_at"),
            ({"kind": "call", "subject": "x" * 301}, "subject"),
        ],
    )
    def test_bad_activities_are_field_errors(self, login, org, bob, data, field):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(_page(lead) + "activities/", data)
        assert response.status_code == 200
        assert field in response.context["activity_form"].errors
        response = login(bob).post(_page(lead) + "activities/", data, HTTP_X_PARTIAL="timeline")
        assert response.status_code == 422

    def test_a_time_typed_is_read_in_the_organizations_time_zone(self, login, org, bob):
        org.time_zone = "Europe/Berlin"
        org.save()
        lead = make_lead(org, owner=bob)
        login(bob).post(_page(lead) + "activities/", {"kind": "call", "occurred_at": "2025-06-01T09:00"})
        with tenant_context(org):
            occurred = Activity.objects.get(lead=lead).occurred_at
        assert occurred.isoformat() == "2025-06-01T07:00:00+00:00"


class TestStageMoveOnTheLeadPage:
    def test_lost_and_disqualified_need_a_reason(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        client = login(bob)
        response = client.post(_page(lead) + "move/", {"to_stage": "disqualified", "expected_stage": "lead"})
        assert response.status_code == 200
        assert response.context["move_form"].errors == {"reason": ["Say why the lead is disqualified."]}
        response = client.post(
            _page(lead) + "move/", {"to_stage": "disqualified", "reason": "Student", "expected_stage": "lead"}
        )
        assert response.status_code == 302
        moved = _get(org, lead)
        assert (moved.stage, moved.close_reason) == (Stage.DISQUALIFIED, "Student")

    def test_an_opportunity_takes_its_amount_in_major_units(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        client = login(bob)
        response = client.post(_page(lead) + "move/", {"to_stage": "opportunity"})
        assert response.context["move_form"].errors == {
            "amount": ["An opportunity needs an expected amount."]
        }
        client.post(_page(lead) + "move/", {"to_stage": "opportunity", "amount": "1,250.50"})
        assert _get(org, lead).expected_amount == 125050

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"to_stage": "heaven"}, "to_stage"),
            ({"to_stage": "won", "amount": "-5"}, "amount"),
            ({"to_stage": "won", "amount": "1.005"}, "amount"),
            ({"to_stage": "won", "amount": "1e400"}, "amount"),
            ({"to_stage": "won", "amount": "NaN"}, "amount"),
            ({"to_stage": "lead"}, "to_stage"),
        ],
    )
    def test_bad_moves_are_field_errors(self, login, org, bob, data, field):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(_page(lead) + "move/", data)
        assert response.status_code == 200 and field in response.context["move_form"].errors

    def test_the_page_offers_only_allowed_targets(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        with tenant_context(org):
            stage_move(org=org, actor=None, lead_id=lead.pk, to_stage=Stage.WON, amount=100)
        response = login(bob).get(_page(lead))
        assert response.context["move_form"].fields["to_stage"].choices == []
        assert b"Closed won is final" in response.content


class TestHistory:
    def test_field_changes_are_listed_with_who_and_when(self, login, org, bob, mike):
        lead = make_lead(org, owner=bob, company="Old name")
        with tenant_context(org):
            lead_update(
                org=org, actor=mike, lead_id=lead.pk, data={"company": "New name", "value_12m": 99900}
            )
        response = login(bob).get(_page(lead) + "history/")
        text = response.content.decode()
        for expected in ("Old name", "New name", "Mike Manager", "999.00", "via App"):
            assert expected in text


class TestCreate:
    def _data(self, **overrides):
        data = {
            "company": "Initech",
            "contact_name": "Peter Gibbons",
            "email": "peter@initech.com",
            "owner": "",
        }
        data.update(overrides)
        return data

    def test_a_rep_creates_a_lead_they_own(self, login, org, bob):
        response = login(bob).post(
            NEW, self._data(owner=bob.pk, expected_amount="1,250.50", website="initech.com")
        )
        with tenant_context(org):
            lead = Lead.objects.get()
        assert response.status_code == 302 and response["Location"] == _page(lead)
        assert (lead.owner, lead.expected_amount, lead.website, lead.domain) == (
            bob,
            125050,
            "https://initech.com",
            "initech.com",
        )

    def test_the_form_starts_with_the_person_as_owner(self, login, bob):
        assert login(bob).get(NEW).context["form"]["owner"].value() == bob.pk

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"email": "not-an-email"}, "email"),
            ({"website": "javascript:alert(1)"}, "website"),
            ({"country": "XX"}, "country"),
            ({"employees": "-3"}, "employees"),
            ({"expected_amount": "lots"}, "expected_amount"),
            ({"expected_amount": "1.234"}, "expected_amount"),
            ({"currency": "EURO"}, "currency"),
            ({"industry": "abc"}, "industry"),
            ({"company": "", "contact_name": "", "email": ""}, "__all__"),
        ],
    )
    def test_bad_input_is_a_field_error(self, login, org, mike, overrides, field):
        response = login(mike).post(NEW, self._data(**overrides))
        assert response.status_code == 200 and field in response.context["form"].errors
        with tenant_context(org):
            assert not Lead.objects.exists()

    def test_another_organizations_source_is_refused(self, login, org, other_org, mike):
        with tenant_context(other_org):
            foreign = Source.objects.create(organization=other_org, name="Theirs")
        response = login(mike).post(NEW, self._data(source=foreign.pk))
        assert "source" in response.context["form"].errors

    def test_a_rep_cannot_create_a_lead_for_a_colleague(self, login, bob, mike):
        response = login(bob).post(NEW, self._data(owner=mike.pk))
        assert "owner" in response.context["form"].errors

    def test_a_viewer_and_a_partner_cannot_create(self, login, vera):
        assert login(vera).get(NEW).status_code == 403
        assert login(vera).post(NEW, self._data()).status_code == 403

    def test_a_duplicate_offers_the_existing_lead(self, login, org, bob):
        existing = make_lead(org, owner=bob, company="Initech", email="peter@initech.com")
        response = login(bob).post(NEW, self._data(email="PETER@initech.com", owner=bob.pk))
        assert response.status_code == 200
        duplicate = response.context["duplicate"]
        assert duplicate["lead"].pk == existing.pk and duplicate["can_merge"]
        text = response.content.decode()
        assert "A lead with the same e-mail already exists: Initech." in text
        assert "Open it" in text and "Merge into it" in text and _page(existing) in text
        with tenant_context(org):
            assert Lead.objects.count() == 1

    def test_merge_on_create_fills_only_the_existing_leads_blanks(self, login, org, bob):
        existing = make_lead(org, owner=bob, company="Initech", email="peter@initech.com")
        response = login(bob).post(
            NEW,
            self._data(company="Initrode", phone="+1 555 0100", owner=bob.pk, merge_into=existing.pk),
        )
        assert response.status_code == 302 and response["Location"] == _page(existing)
        assert _messages(response) == ["No new lead created. Added Contact name, Phone to Initech."]
        with tenant_context(org):
            assert Lead.objects.count() == 1
        updated = _get(org, existing)
        assert (updated.company, updated.contact_name, updated.phone) == (
            "Initech",
            "Peter Gibbons",
            "+1 555 0100",
        )

    def test_a_duplicate_the_rep_may_not_see_is_not_named(self, login, org, bob, mike):
        make_lead(org, owner=mike, company="Secret Co", email="peter@initech.com")
        response = login(bob).post(NEW, self._data(owner=bob.pk))
        duplicate = response.context["duplicate"]
        assert duplicate["lead"] is None and "belongs to a colleague" in duplicate["message"]
        assert b"Secret Co" not in response.content

    def test_merging_into_an_invisible_or_foreign_lead_is_404(self, login, org, other_org, bob, mike):
        theirs = make_lead(org, owner=mike, email="x@initech.com")
        foreign = make_lead(other_org, email="y@initech.com")
        client = login(bob)
        assert client.post(NEW, self._data(owner=bob.pk, merge_into=theirs.pk)).status_code == 404
        assert client.post(NEW, self._data(owner=bob.pk, merge_into=foreign.pk)).status_code == 404


class TestEdit:
    def _form_data(self, lead, **overrides):
        from leads.forms import LeadForm

        data = {
            name: ("" if value is None else getattr(value, "pk", value))
            for name, value in LeadForm.initial_from(lead).items()
        }
        for name in ("expected_amount", "value_12m"):
            if data[name] != "":
                data[name] = f"{data[name] / 100:.2f}"
        data.update(overrides)
        return data

    def test_an_edit_records_who_changed_what(self, login, org, bob):
        lead = make_lead(org, owner=bob, company="Initech")
        response = login(bob).post(
            _page(lead) + "edit/", self._form_data(lead, phone="+1 555", expected_amount="2,000")
        )
        assert response.status_code == 302 and _messages(response) == ["Saved."]
        with tenant_context(org):
            change = LeadChange.objects.get(lead=lead)
        assert change.actor == bob and change.changes == {
            "phone": ["", "+1 555"],
            "expected_amount": [None, 200000],
        }

    def test_a_stale_version_says_changed_by_someone_else_and_keeps_the_edits(self, login, org, bob, mike):
        lead = make_lead(org, owner=bob, company="Initech")
        data = self._form_data(lead, phone="+1 555 0100")
        with tenant_context(org):
            lead_update(org=org, actor=mike, lead_id=lead.pk, data={"company": "Initech Inc"})
        response = login(bob).post(_page(lead) + "edit/", data)
        assert response.status_code == 409
        form = response.context["form"]
        assert "changed by someone else" in form.non_field_errors()[0]
        assert form["phone"].value() == "+1 555 0100" and form["version"].value() == "2"
        assert ("Company", "Initech Inc", "Initech") in response.context["differences"]
        assert _get(org, lead).phone == ""
        # Saving again, knowingly, goes through.
        assert login(bob).post(_page(lead) + "edit/", {**data, "version": "2"}).status_code == 302
        print("\n[D4] edit form and the lead page's inline edit (one form): stale version → 409, kept")

    def test_the_version_is_required(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(_page(lead) + "edit/", self._form_data(lead, version=""))
        assert response.status_code == 200 and "version" in response.context["form"].errors

    def test_an_edit_into_a_duplicate_offers_merge_and_merge_keeps_both_histories(self, login, org, bob):
        primary = make_lead(org, owner=bob, company="Initech", email="peter@initech.com")
        other = make_lead(org, owner=bob, company="Initech 2", contact_name="Pete", email="p2@initech.com")
        with tenant_context(org):
            activity_log(org=org, actor=bob, lead_id=other.pk, kind=ActivityKind.CALL)
        client = login(bob)
        data = self._form_data(other, email="peter@initech.com", phone="+1 555 0199")
        response = client.post(_page(other) + "edit/", data)
        assert response.context["duplicate"]["lead"].pk == primary.pk
        response = client.post(_page(other) + "edit/", {**data, "merge_into": primary.pk})
        assert response.status_code == 302 and response["Location"] == _page(primary)
        merged, gone = _get(org, primary), _get(org, other)
        assert (merged.company, merged.contact_name, merged.phone) == ("Initech", "Pete", "+1 555 0199")
        assert gone.deleted_at is not None and gone.merged_into_id == primary.pk
        with tenant_context(org):
            assert Activity.objects.get().lead_id == primary.pk

    def test_merging_into_itself_is_refused_without_a_500(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(_page(lead) + "edit/", self._form_data(lead, merge_into=lead.pk))
        assert response.status_code == 302 and "Could not merge" in _messages(response)[0]
