"""The lead list (filters, sorting, keyset pages, saved views, bulk actions) and the board."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads import views
from leads.models import Campaign, Industry, Lead, LeadSettings, SavedView, Source
from leads.services import lead_create, lead_update
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.factories import UserFactory, add_member, make_lead

LIST = "/o/acme/leads/"
BOARD = "/o/acme/leads/board/"


def _listed(response) -> list[int]:
    return [lead.pk for lead in response.context["page"].rows]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _selected(org, *leads) -> list[str]:
    """The checkbox values a freshly loaded list page posts for these leads: "<id>:<version>"."""
    with tenant_context(org):
        versions = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "version"))
    return [f"{lead.pk}:{versions.get(lead.pk, lead.version)}" for lead in leads]


def _checkboxes(response) -> dict[int, str]:
    """{lead id: value} of the list page's selection checkboxes, as the browser would post them."""
    values = re.findall(r'name="lead" value="([^"]*)"', response.content.decode())
    return {int(value.partition(":")[0]): value for value in values}


def _reps_see_all(org) -> None:
    with tenant_context(org):
        LeadSettings.objects.update_or_create(organization=org, defaults={"reps_see_all_leads": True})


class TestFilterOptionsStayCurrent:
    """The filter selects' options are cached per organization: a change shows on the next page."""

    def _options(self, client, name: str) -> list[str]:
        field = client.get(LIST).context["filter_form"].fields[name]
        return [str(label) for _, label in field.widget.choices]

    def test_a_new_or_deleted_source_campaign_or_industry_shows_at_once(self, login, org, other_org, mike):
        client = login(mike)
        assert "Trade show" not in self._options(client, "source")  # the options are now cached
        with tenant_context(org):
            source = Source.objects.create(organization=org, name="Trade show")
            Campaign.objects.create(organization=org, name="Autumn push")
            Industry.objects.create(organization=org, name="Shipping")
        with tenant_context(other_org):
            Source.objects.create(organization=other_org, name="Their source")
        assert "Trade show" in self._options(client, "source")
        assert "Autumn push" in self._options(client, "campaign")
        assert "Shipping" in self._options(client, "industry")
        assert "Their source" not in self._options(client, "source")
        with tenant_context(org):
            source.delete()
        assert "Trade show" not in self._options(client, "source")

    def test_a_new_member_is_an_owner_option_and_a_partner_is_not(self, login, org, mike):
        client = login(mike)
        before = self._options(client, "owner")
        add_member(org, UserFactory(full_name="Nora New"), Role.SALES_REP)
        add_member(org, UserFactory(full_name="Pat Partner"), Role.PARTNER)
        after = self._options(client, "owner")
        assert "Nora New" not in before
        assert "Nora New" in after
        assert "Pat Partner" not in after


class TestListAccess:
    @pytest.mark.parametrize("who", ["alice", "mike", "bob", "vera"])
    def test_every_internal_role_gets_the_list(self, request, login, who):
        assert login(request.getfixturevalue(who)).get(LIST).status_code == 200

    def test_a_partner_is_refused_and_an_outsider_gets_404(self, client, login, org, charlie):
        partner = UserFactory()
        add_member(org, partner, Role.PARTNER)
        assert login(partner).get(LIST).status_code == 403
        assert login(charlie).get(LIST).status_code == 404

    def test_a_rep_sees_own_leads_unless_the_team_setting_is_on(self, login, org, bob, mike):
        own = make_lead(org, company="Bob's", owner=bob)
        other = make_lead(org, company="Mike's", owner=mike)
        client = login(bob)
        assert _listed(client.get(LIST)) == [own.pk]
        _reps_see_all(org)
        assert set(_listed(client.get(LIST))) == {own.pk, other.pk}

    def test_managers_see_all_and_never_another_tenants_rows(self, login, org, other_org, mike):
        ours = make_lead(org, company="Ours")
        make_lead(other_org, company="Theirs")
        response = login(mike).get(LIST)
        assert _listed(response) == [ours.pk]
        assert b"Theirs" not in response.content


class TestFiltersAndSorting:
    def test_filters_and_search_narrow_the_list(self, login, org, mike, bob):
        with tenant_context(org):
            source = Source.objects.create(organization=org, name="Webinar")
            industry = Industry.objects.create(organization=org, name="Robotics")
        jane = make_lead(org, contact_name="Jane Roe", email="jane@acme.io", source=source, owner=bob)
        make_lead(org, contact_name="John Doe", email="john@initech.io", industry=industry, employees=5000)
        client = login(mike)
        assert _listed(client.get(LIST, {"q": "acm jan"})) == [jane.pk]
        assert _listed(client.get(LIST, {"source": source.pk})) == [jane.pk]
        assert _listed(client.get(LIST, {"owner": bob.pk, "stage": ["lead", "mql"]})) == [jane.pk]
        assert len(_listed(client.get(LIST, {"segment": "enterprise", "industry": industry.pk}))) == 1
        assert _listed(client.get(LIST, {"stage": "won"})) == []
        # The export buttons carry the same filters.
        assert b"/o/acme/leads/export/leads.csv?source=" in client.get(LIST, {"source": source.pk}).content

    @pytest.mark.parametrize(
        "params",
        [
            {"owner": "abc"},
            {"stage": "bogus"},
            {"score_min": "many", "score_max": "1e999"},
            {"created_from": "yesterday"},
            {"created_from": "0001-01-01"},
            {"created_to": "9999-12-31"},
            {"reached": "mql", "reached_from": "0001-01-01", "reached_to": "9999-12-31"},
            {"not_contacted_hours": "1e20"},
            {"not_contacted_hours": "-5"},
            {"sort": "password"},
            {"after": "garbage"},
            {"before": "%%%"},
            {"after": "WzEsMl0"},  # a well-formed cursor of the wrong type
            {"region": "atlantis", "segment": "huge", "industry": "999999999999999999999"},
        ],
    )
    def test_bad_input_is_a_form_error_or_ignored_never_a_500(self, login, org, mike, params):
        make_lead(org)
        assert login(mike).get(LIST, params).status_code == 200

    @pytest.mark.parametrize("time_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
    def test_the_edges_of_the_calendar_in_far_time_zones_are_no_500(self, login, org, mike, time_zone):
        org.time_zone = time_zone
        org.save()
        make_lead(org)
        params = {"created_from": "0001-01-01", "created_to": "9999-12-30"}
        assert login(mike).get(LIST, params).status_code == 200

    def test_another_organizations_source_or_campaign_is_a_form_error(self, login, org, other_org, mike):
        with tenant_context(other_org):
            source = Source.objects.create(organization=other_org, name="Theirs")
            campaign = Campaign.objects.create(organization=other_org, name="Theirs")
        make_lead(org)
        response = login(mike).get(LIST, {"source": source.pk, "campaign": campaign.pk})
        assert response.status_code == 200
        assert set(response.context["filter_form"].errors) == {"source", "campaign"}
        assert _listed(response) == []

    @pytest.mark.parametrize("sort_key", list(views.SORTS))
    def test_keyset_pages_walk_every_lead_once_in_order_both_ways(
        self, login, org, mike, monkeypatch, sort_key
    ):
        monkeypatch.setattr(views, "PAGE_SIZE", 3)
        same_moment = timezone.now() - timedelta(days=1)
        with tenant_context(org):
            for n in range(8):
                # Ties on every sort field: the id breaks them.
                lead_create(org=org, actor=None, data={"company": f"Co {n % 2}"}, created_at=same_moment)
        client = login(mike)
        sort = views.SORTS[sort_key]
        with tenant_context(org):
            expected = list(
                views._ordered(Lead.objects.all(), sort.field, descending=sort.descending).values_list(
                    "pk", flat=True
                )
            )
        seen, params, pages = [], {"sort": sort_key}, []
        while True:
            page = client.get(LIST, params).context["page"]
            pages.append(page)
            seen += [lead.pk for lead in page.rows]
            if not page.next_cursor:
                break
            params = {"sort": sort_key, "after": page.next_cursor}
        assert seen == expected and len(pages) == 3
        back = client.get(LIST, {"sort": sort_key, "before": pages[-1].previous_cursor}).context["page"]
        assert [lead.pk for lead in back.rows] == expected[3:6]

    def test_the_count_is_capped_instead_of_counting_everything(self, login, org, mike, monkeypatch):
        monkeypatch.setattr(views, "COUNT_CAP", 4)
        for n in range(6):
            make_lead(org, company=f"Co {n}")
        response = login(mike).get(LIST)
        assert response.context["count"] == 4 and response.context["count_capped"]
        assert b"4+ leads" in response.content

    def test_dates_are_shown_in_the_organizations_time_zone(self, login, org, mike):
        org.time_zone = "Asia/Tokyo"
        org.save()
        with tenant_context(org):
            lead_create(
                org=org,
                actor=None,
                data={"company": "Tokyo"},
                created_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC),
            )
        assert b"2025-03-02 08:30" in login(mike).get(LIST).content


class TestNoNPlusOne:
    def _leads(self, org, bob, count: int) -> None:
        with tenant_context(org):
            source = Source.objects.get_or_create(organization=org, name="Web")[0]
            campaign = Campaign.objects.get_or_create(organization=org, name="Spring")[0]
            industry = Industry.objects.get_or_create(organization=org, name="Retail")[0]
        for _ in range(count):
            make_lead(org, owner=bob, source=source, campaign=campaign, industry=industry, country="DE")

    @pytest.mark.parametrize("url", [LIST, BOARD])
    def test_the_query_count_does_not_grow_with_the_rows(self, login, org, mike, bob, url):
        client = login(mike)
        self._leads(org, bob, 2)
        client.get(url)  # fills the caches (session, filter options) both counts then read from
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        self._leads(org, bob, 25)
        with CaptureQueriesContext(connection) as many:
            assert client.get(url).status_code == 200
        print(f"\n[N+1] {url} queries: 2 leads={len(few)} 27 leads={len(many)}")
        assert len(many) == len(few)

    def test_a_page_of_fifty_stays_under_a_fixed_budget(
        self, login, org, mike, bob, django_assert_max_num_queries
    ):
        self._leads(org, bob, 55)
        client = login(mike)
        with django_assert_max_num_queries(25):
            response = client.get(LIST)
        assert len(response.context["page"].rows) == 50


class TestSavedViews:
    def test_builtin_views_are_offered_and_filter(self, login, org, bob, mike):
        mine = make_lead(org, owner=bob, company="Mine")
        make_lead(org, owner=mike, company="Not mine")
        client = login(mike)
        _reps_see_all(org)
        response = login(bob).get(LIST)
        views_offered = {view["name"]: view["query"] for view in response.context["builtin_views"]}
        assert set(views_offered) == {"My open leads", "Not contacted in 24h"}
        assert _listed(client.get(f"{LIST}?{views_offered['My open leads']}")) == [mine.pk]
        assert (
            b'aria-current="page">My open leads'
            in client.get(f"{LIST}?{views_offered['My open leads']}").content
        )

    def test_the_same_filters_typed_in_the_form_match_the_builtin_view(self, login, bob):
        response = login(bob).get(
            LIST, {"q": "", "stage": ["lead", "mql", "sql", "opportunity"], "owner": bob.pk, "sort": "newest"}
        )
        builtin = {view["name"]: view["query"] for view in response.context["builtin_views"]}
        assert response.context["current_query"] == builtin["My open leads"]

    def test_not_contacted_in_24h(self, login, org, mike):
        with tenant_context(org):
            old = lead_create(
                org=org, actor=None, data={"company": "Old"}, created_at=timezone.now() - timedelta(days=2)
            )
        make_lead(org, company="Fresh")
        assert _listed(login(mike).get(LIST, {"not_contacted_hours": "24"})) == [old.pk]

    def test_a_saved_view_is_personal_unless_shared(self, login, org, bob, mike, vera):
        client = login(bob)
        response = client.post("/o/acme/leads/views/", {"name": "Hot", "query": "score_min=50&after=xyz"})
        assert response.status_code == 302 and response["Location"].endswith("?score_min=50")
        with tenant_context(org):
            saved = SavedView.objects.get()
        assert (saved.owner, saved.query, saved.shared) == (bob, "score_min=50", False)
        assert [v.name for v in login(mike).get(LIST).context["saved_views"]] == []
        client = login(bob)
        client.post("/o/acme/leads/views/", {"name": "Team", "query": "stage=mql", "shared": "on"})
        assert [v.name for v in login(vera).get(LIST).context["saved_views"]] == ["Team"]

    def test_only_the_owner_deletes_and_other_tenants_views_are_404(
        self, login, org, other_org, bob, mike, charlie
    ):
        with tenant_context(org):
            shared = SavedView.objects.create(organization=org, owner=bob, name="Team", query="", shared=True)
            private = SavedView.objects.create(organization=org, owner=bob, name="Mine", query="")
        with tenant_context(other_org):
            foreign = SavedView.objects.create(organization=other_org, owner=charlie, name="X", query="")
        client = login(mike)
        assert client.post(f"/o/acme/leads/views/{shared.pk}/delete/").status_code == 403
        assert client.post(f"/o/acme/leads/views/{private.pk}/delete/").status_code == 404
        assert client.post(f"/o/acme/leads/views/{foreign.pk}/delete/").status_code == 404
        assert login(bob).post(f"/o/acme/leads/views/{shared.pk}/delete/").status_code == 302
        with tenant_context(org):
            assert list(SavedView.objects.values_list("name", flat=True)) == ["Mine"]

    def test_a_nameless_view_is_a_field_error(self, login, bob, org):
        response = login(bob).post("/o/acme/leads/views/", {"name": "", "query": "q=x"})
        assert response.status_code == 200 and "name" in response.context["form"].errors


class TestBulkActions:
    def test_a_manager_assigns_an_owner_to_the_selected_leads(self, login, org, mike, bob):
        leads = [make_lead(org, company=f"Co {n}") for n in range(3)]
        response = login(mike).post(
            f"{LIST}?stage=lead", {"action": "assign", "owner": bob.pk, "lead": _selected(org, *leads[:2])}
        )
        assert response.status_code == 302 and response["Location"] == f"{LIST}?stage=lead"
        assert _messages(response) == ["2 assigned."]
        with tenant_context(org):
            owners = dict(Lead.objects.values_list("pk", "owner_id"))
        assert owners == {leads[0].pk: bob.pk, leads[1].pk: bob.pk, leads[2].pk: None}

    def test_a_move_reports_each_refused_lead_and_moves_the_others(self, login, org, mike, other_org):
        leads = [make_lead(org, company=f"Co {n}") for n in range(4)]
        with tenant_context(org):
            stage_move(org=org, actor=None, lead_id=leads[3].pk, to_stage=Stage.SQL)
        foreign = make_lead(other_org, company="Theirs")
        response = login(mike).post(
            LIST, {"action": "move", "to_stage": "mql", "lead": _selected(org, *leads, foreign)}
        )
        (message,) = _messages(response)
        assert (
            message
            == f"3 moved, 2 refused: Co 3: A lead cannot move from SQL to MQL; #{foreign.pk}: not found."
        )
        with tenant_context(org):
            assert sorted(Lead.objects.values_list("stage", flat=True)) == ["mql", "mql", "mql", "sql"]

    def test_requirements_of_the_target_stage_are_reported_per_lead(self, login, org, mike):
        lead = make_lead(org, company="Needs reason")
        response = login(mike).post(
            LIST, {"action": "move", "to_stage": "disqualified", "lead": _selected(org, lead)}
        )
        assert _messages(response) == ["0 moved, 1 refused: Needs reason: Say why the lead is disqualified."]

    def test_a_rep_cannot_touch_a_colleagues_lead_or_give_leads_away(self, login, org, bob, mike):
        _reps_see_all(org)
        theirs = make_lead(org, company="Mike's", owner=mike)
        mine = make_lead(org, company="Bob's", owner=bob)
        client = login(bob)
        response = client.post(
            LIST, {"action": "move", "to_stage": "mql", "lead": _selected(org, theirs, mine)}
        )
        assert _messages(response) == ["1 moved, 1 refused: Mike's: you may not edit it."]
        response = client.post(LIST, {"action": "assign", "owner": mike.pk, "lead": _selected(org, mine)})
        assert "Select a valid choice" in _messages(response)[-1]
        response = client.post(LIST, {"action": "assign", "owner": "", "lead": _selected(org, mine)})
        assert _messages(response)[-1] == "Choose the new owner."

    def test_a_viewer_is_refused(self, login, org, vera):
        lead = make_lead(org)
        assert (
            login(vera)
            .post(LIST, {"action": "move", "to_stage": "mql", "lead": _selected(org, lead)})
            .status_code
            == 403
        )

    @pytest.mark.parametrize(
        "data",
        [
            {"action": "explode", "lead": ["1:1"]},
            {"action": "move", "lead": ["abc"], "to_stage": "mql"},
            {"action": "move", "lead": ["1:abc"], "to_stage": "mql"},
            {"action": "move", "lead": ["1:"], "to_stage": "mql"},
            {"action": "move", "lead": ["1:1:1"], "to_stage": "mql"},
            {"action": "move", "lead": ["99999999999999999999999:1"], "to_stage": "mql"},
            {"action": "move", "to_stage": "mql"},
            {"action": "move", "lead": ["1:1"], "to_stage": "nowhere"},
            {"action": "move", "lead": ["1:1"], "to_stage": "opportunity", "amount": "lots"},
        ],
    )
    def test_bad_input_is_reported_never_a_500(self, login, org, mike, data):
        response = login(mike).post(LIST, data)
        assert response.status_code == 302 and _messages(response)

    @pytest.mark.parametrize("action", ["assign", "move"])
    def test_a_lead_changed_since_the_page_loaded_is_refused_and_the_others_go_through(
        self, login, org, alice, mike, bob, action
    ):
        stale = make_lead(org, company="Stale Co")
        fresh = make_lead(org, company="Fresh Co")
        client = login(mike)
        boxes = _checkboxes(client.get(LIST))
        assert boxes[stale.pk] == f"{stale.pk}:1"
        # Another user changes one of the leads while the page is open.
        with tenant_context(org):
            if action == "assign":
                lead_update(org=org, actor=alice, lead_id=stale.pk, data={"owner": alice})
            else:
                stage_move(org=org, actor=alice, lead_id=stale.pk, to_stage=Stage.MQL)
            after_other = Lead.objects.values("owner_id", "stage", "version").get(pk=stale.pk)
        response = client.post(
            LIST,
            {
                "action": action,
                "owner": bob.pk,
                "to_stage": "sql",
                "lead": [boxes[stale.pk], boxes[fresh.pk]],
            },
        )
        verb = "assigned" if action == "assign" else "moved"
        assert _messages(response) == [
            f"1 {verb}, 1 refused: Stale Co: changed by someone else since you loaded the page; "
            "reload and try again."
        ]
        with tenant_context(org):
            assert Lead.objects.values("owner_id", "stage", "version").get(pk=stale.pk) == after_other
            changed = Lead.objects.values("owner_id", "stage", "version").get(pk=fresh.pk)
        wanted = {"owner_id": bob.pk} if action == "assign" else {"stage": "sql"}
        assert changed == {**changed, **wanted, "version": 2}
        # Reloaded, the page shows the new version and the same action goes through.
        again = client.post(
            LIST,
            {
                "action": action,
                "owner": bob.pk,
                "to_stage": "sql",
                "lead": [_checkboxes(client.get(LIST))[stale.pk]],
            },
        )
        assert _messages(again) == [f"1 {verb}."]
        print(
            f"\n[D4] lead list bulk {action}: 1 of 2 selected changed by another user after the page loaded "
            f"→ refused and reported, left at version {after_other['version']}; the other {verb}"
        )

    def test_ids_without_versions_are_refused_as_an_out_of_date_page(self, login, org, mike, bob):
        lead = make_lead(org, company="Old page")
        response = login(mike).post(LIST, {"action": "assign", "owner": bob.pk, "lead": [str(lead.pk)]})
        assert _messages(response) == ["This page is out of date; reload it and select the leads again."]
        with tenant_context(org):
            assert Lead.objects.values_list("owner_id", "version").get(pk=lead.pk) == (None, 1)


class TestBoard:
    @pytest.mark.parametrize("who", ["alice", "mike", "bob", "vera"])
    def test_every_internal_role_gets_the_board(self, request, login, who):
        assert login(request.getfixturevalue(who)).get(BOARD).status_code == 200

    def test_columns_hold_the_visible_open_leads_newest_first(self, login, org, bob, mike):
        first = make_lead(org, company="First", owner=bob)
        second = make_lead(org, company="Second", owner=bob)
        make_lead(org, company="Mike's", owner=mike)
        with tenant_context(org):
            stage_move(org=org, actor=None, lead_id=first.pk, to_stage=Stage.MQL)
        columns = {c["stage"]: c for c in login(bob).get(BOARD).context["columns"]}
        assert [card.pk for card in columns[Stage.LEAD]["cards"]] == [second.pk]
        assert [card.pk for card in columns[Stage.MQL]["cards"]] == [first.pk]
        assert list(columns) == [Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY]

    def test_a_viewer_sees_cards_without_move_controls(self, login, org, vera):
        make_lead(org, company="Look only")
        response = login(vera).get(BOARD)
        assert b"Look only" in response.content and b'class="card-move"' not in response.content

    def test_the_no_js_move_form_moves_and_returns_to_the_board(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(
            f"/o/acme/leads/{lead.pk}/move/",
            {"to_stage": "mql", "expected_stage": "lead", "next": f"{BOARD}?q=ini"},
        )
        assert response.status_code == 302 and response["Location"] == f"{BOARD}?q=ini"
        assert _messages(response) == [f"{lead} moved to MQL."]
        with tenant_context(org):
            assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL

    def test_a_foreign_next_is_ignored(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(
            f"/o/acme/leads/{lead.pk}/move/", {"to_stage": "mql", "next": "https://evil.example/"}
        )
        assert response["Location"] == f"/o/acme/leads/{lead.pk}/"

    def test_drag_and_drop_gets_json_with_the_next_targets(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(
            f"/o/acme/leads/{lead.pk}/move/",
            {"to_stage": "sql", "expected_stage": "lead"},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200
        assert response.json() == {
            "ok": True,
            "message": f"{lead} moved to SQL.",
            "stage": "sql",
            "targets": [["opportunity", "Opportunity"]],
        }

    def test_a_card_someone_else_moved_first_is_a_conflict_with_a_clear_message(self, login, org, bob, mike):
        lead = make_lead(org, owner=bob)
        with tenant_context(org):
            stage_move(org=org, actor=mike, lead_id=lead.pk, to_stage=Stage.MQL)
        client = login(bob)
        response = client.post(
            f"/o/acme/leads/{lead.pk}/move/",
            {"to_stage": "sql", "expected_stage": "lead"},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 409
        assert response.json()["message"] == (
            "This lead was moved to MQL by Mike Manager a moment ago; your move was not applied."
        )
        response = client.post(
            f"/o/acme/leads/{lead.pk}/move/", {"to_stage": "sql", "expected_stage": "lead", "next": BOARD}
        )
        assert response["Location"] == BOARD and "moved to MQL by Mike Manager" in _messages(response)[0]
        with tenant_context(org):
            assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL

    def test_a_missing_requirement_is_explained_in_json(self, login, org, bob):
        lead = make_lead(org, owner=bob)
        response = login(bob).post(
            f"/o/acme/leads/{lead.pk}/move/", {"to_stage": "opportunity"}, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400
        assert response.json()["message"] == "An opportunity needs an expected amount."

    def test_moves_of_invisible_or_foreign_leads_are_404_and_of_uneditable_ones_403(
        self, login, org, other_org, bob, mike, vera
    ):
        theirs = make_lead(org, owner=mike)
        foreign = make_lead(other_org)
        client = login(bob)
        assert client.post(f"/o/acme/leads/{theirs.pk}/move/", {"to_stage": "mql"}).status_code == 404
        assert client.post(f"/o/acme/leads/{foreign.pk}/move/", {"to_stage": "mql"}).status_code == 404
        _reps_see_all(org)
        assert client.post(f"/o/acme/leads/{theirs.pk}/move/", {"to_stage": "mql"}).status_code == 403
        assert login(vera).post(f"/o/acme/leads/{theirs.pk}/move/", {"to_stage": "mql"}).status_code == 403
        assert client.get(f"/o/acme/leads/{theirs.pk}/move/").status_code == 405
