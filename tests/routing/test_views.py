"""Routing pages: roles (403), another organization's ids (404), field errors, and what they do."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from funnel.routing import services
from funnel.routing.models import (
    LeadRouting,
    Notification,
    NotificationKind,
    RoutingRule,
    SlaPolicy,
    TeamMember,
)
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.routing.conftest import make_rule, make_team

BASE = "/o/acme/routing/"
MANAGE_PAGES = ("", "rules/new/", "teams/new/", "sla/settings/")


@pytest.fixture
def setup(org, reps):
    team = make_team(org, "Inbound", reps[:2])
    first = make_rule(org, "First", team=team)
    second = make_rule(org, "Second", user=reps[2], countries=["DE"])
    with tenant_context(org):
        member = TeamMember.objects.filter(team=team).order_by("pk").first()
    return {"team": team, "first": first, "second": second, "member": member}


@pytest.fixture
def foreign(other_org, charlie):
    team = make_team(other_org, "Theirs", [charlie])
    rule = make_rule(other_org, "Theirs", team=team)
    with tenant_context(other_org):
        member = TeamMember.objects.get(team=team)
    return {"team": team, "rule": rule, "member": member}


class TestAccess:
    @pytest.mark.parametrize("page", MANAGE_PAGES)
    def test_only_admins_manage_routing(self, login, alice, mike, bob, vera, page):
        assert login(alice).get(BASE + page).status_code == 200
        for person in (mike, bob, vera):
            assert login(person).get(BASE + page).status_code == 403

    def test_the_sla_queue_is_for_admins_managers_and_reps(self, login, alice, mike, bob, vera):
        for person in (alice, mike, bob):
            assert login(person).get(BASE + "sla/").status_code == 200
        assert login(vera).get(BASE + "sla/").status_code == 403

    def test_outsiders_get_404_everywhere(self, login, org, charlie):
        client = login(charlie)
        for page in (*MANAGE_PAGES, "sla/", "notifications/"):
            assert client.get(BASE + page).status_code == 404

    def test_a_rep_cannot_post_to_the_admin_pages(self, login, setup, bob):
        client = login(bob)
        rule = setup["first"].pk
        assert client.post(BASE + f"rules/{rule}/delete/").status_code == 403
        assert client.post(BASE + f"rules/{rule}/move/", {"direction": "down"}).status_code == 403
        assert client.post(BASE + "sla/settings/", {}).status_code == 403

    def test_another_organizations_rule_team_and_member_are_404(self, login, setup, foreign, alice):
        client = login(alice)
        rule, team, member = foreign["rule"].pk, foreign["team"].pk, foreign["member"].pk
        ours = setup["team"].pk
        assert client.get(BASE + f"rules/{rule}/").status_code == 404
        assert client.post(BASE + f"rules/{rule}/delete/").status_code == 404
        assert client.post(BASE + f"rules/{rule}/move/", {"direction": "up"}).status_code == 404
        assert client.get(BASE + f"teams/{team}/").status_code == 404
        assert client.post(BASE + f"teams/{team}/delete/").status_code == 404
        assert client.post(BASE + f"teams/{team}/members/{member}/", {}).status_code == 404
        assert client.post(BASE + f"teams/{team}/members/{member}/remove/").status_code == 404
        # Their member through our team's URL is 404 too.
        assert client.post(BASE + f"teams/{ours}/members/{member}/remove/").status_code == 404
        with tenant_context(foreign["rule"].organization):
            assert RoutingRule.objects.filter(pk=rule).exists()
            assert TeamMember.objects.filter(pk=member).exists()


class TestRules:
    def test_an_admin_creates_a_rule_that_acts_last(self, login, org, setup, reps, alice):
        response = login(alice).post(
            BASE + "rules/new/",
            {
                "name": "Enterprise",
                "is_active": "on",
                "segments": ["enterprise"],
                "regions": ["europe", "apac"],
                "min_score": "40",
                "action": "user",
                "assign_to": reps[0].pk,
            },
        )
        assert response.status_code == 302
        with tenant_context(org):
            rule = RoutingRule.objects.get(name="Enterprise")
        assert (rule.position, rule.segments, rule.regions, rule.min_score, rule.assign_to, rule.team) == (
            2,
            ["enterprise"],
            ["europe", "apac"],
            40,
            reps[0],
            None,
        )
        page = login(alice).get(BASE).content.decode()
        assert "Region: Europe, APAC; Segment: Enterprise; Score ≥ 40" in page

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"name": "", "action": "team"}, "name", "This field is required."),
            ({"name": "No team", "action": "team"}, "team", "Choose the team."),
            ({"name": "No person", "action": "user"}, "assign_to", "Choose the person."),
            ({"name": "Bad", "action": "robot"}, "action", "Select a valid choice."),
            ({"name": "Bad", "action": "user", "assign_to": "999999"}, "assign_to", "Select a valid choice."),
            (
                {"name": "Bad", "action": "team", "team": "x", "min_score": "lots"},
                "min_score",
                "Enter a whole number.",
            ),
            ({"name": "Bad", "action": "team", "countries": ["XX"]}, "countries", "Select a valid choice."),
        ],
    )
    def test_bad_input_gives_field_errors(self, login, org, setup, alice, data, field, message):
        response = login(alice).post(BASE + "rules/new/", data)
        assert response.status_code == 200
        assert message in str(response.context["form"].errors[field])
        with tenant_context(org):
            assert RoutingRule.objects.count() == 2

    def test_another_organizations_team_cannot_be_chosen(self, login, org, setup, foreign, alice):
        response = login(alice).post(
            BASE + "rules/new/", {"name": "Sneaky", "action": "team", "team": foreign["team"].pk}
        )
        assert "Select a valid choice." in str(response.context["form"].errors["team"])

    def test_edit_move_and_delete(self, login, org, setup, alice, reps):
        client = login(alice)
        first, second = setup["first"], setup["second"]
        response = client.post(
            BASE + f"rules/{second.pk}/",
            {
                "name": "Germany",
                "is_active": "on",
                "countries": ["DE", "AT"],
                "action": "team",
                "team": setup["team"].pk,
            },
        )
        assert response.status_code == 302
        client.post(BASE + f"rules/{second.pk}/move/", {"direction": "up"})
        with tenant_context(org):
            ordered = list(
                RoutingRule.objects.order_by("position").values_list("name", "countries", "assign_to")
            )
        assert ordered == [("Germany", ["DE", "AT"], None), ("First", [], None)]
        client.post(BASE + f"rules/{first.pk}/delete/")
        with tenant_context(org):
            assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Germany"]

    def test_a_changed_rule_applies_to_the_next_lead(self, login, org, setup, alice, reps):
        client = login(alice)
        client.post(
            BASE + f"rules/{setup['first'].pk}/",
            {"name": "First", "is_active": "on", "action": "user", "assign_to": reps[2].pk},
        )
        assert make_lead(org, company="Next").owner == reps[2]


class TestTeams:
    def test_an_admin_builds_a_team(self, login, org, reps, alice):
        client = login(alice)
        response = client.post(BASE + "teams/new/", {"name": "Outbound"})
        team_url = response["Location"]
        client.post(team_url, {"add_member": "1", "user": reps[0].pk, "max_open_leads": "5"})
        client.post(team_url, {"add_member": "1", "user": reps[1].pk})
        with tenant_context(org):
            members = list(
                TeamMember.objects.order_by("pk").values_list("user__email", "max_open_leads", "is_absent")
            )
        assert members == [("rae@acme.example", 5, False), ("sam@acme.example", None, False)]
        page = client.get(team_url).content.decode()
        assert "Rae Rep" in page and "Sam Rep" in page

    def test_capacity_and_absent_toggles(self, login, org, setup, alice):
        team, member = setup["team"], setup["member"]
        url = BASE + f"teams/{team.pk}/members/{member.pk}/"
        login(alice).post(url, {f"m{member.pk}-max_open_leads": "3", f"m{member.pk}-is_absent": "on"})
        with tenant_context(org):
            member.refresh_from_db()
        assert (member.max_open_leads, member.is_absent) == (3, True)
        login(alice).post(url, {f"m{member.pk}-max_open_leads": ""})
        with tenant_context(org):
            member.refresh_from_db()
        assert (member.max_open_leads, member.is_absent) == (None, False)

    def test_a_capacity_of_zero_is_refused(self, login, org, setup, alice):
        team, member = setup["team"], setup["member"]
        response = login(alice).post(
            BASE + f"teams/{team.pk}/members/{member.pk}/", {f"m{member.pk}-max_open_leads": "0"}, follow=True
        )
        assert "not updated: Ensure this value is greater than or equal to 1." in response.content.decode()
        with tenant_context(org):
            member.refresh_from_db()
        assert member.max_open_leads is None

    def test_bad_team_input_gives_field_errors(self, login, org, setup, alice, reps, charlie):
        client = login(alice)
        assert client.post(BASE + "teams/new/", {"name": "inbound"}).context["form"].errors["name"] == [
            "A team with this name exists."
        ]
        url = BASE + f"teams/{setup['team'].pk}/"
        twice = client.post(url, {"add_member": "1", "user": reps[0].pk})
        assert twice.context["add_form"].errors["user"] == ["Already in this team."]
        outsider = client.post(url, {"add_member": "1", "user": charlie.pk})
        assert "Select a valid choice." in str(outsider.context["add_form"].errors["user"])

    def test_a_team_in_use_cannot_be_deleted(self, login, org, setup, alice):
        response = login(alice).post(BASE + f"teams/{setup['team'].pk}/delete/", follow=True)
        assert "Used by the rule(s): First. Change them first." in response.content.decode()


class TestSlaPolicy:
    def test_the_defaults_are_an_hour_in_office_hours(self, org):
        with tenant_context(org):
            policy = services.sla_policy_get(org=org)
        assert (
            policy.first_contact_minutes,
            policy.workday_start,
            policy.workday_end,
            policy.working_days,
        ) == (
            60,
            time(9),
            time(17),
            [0, 1, 2, 3, 4],
        )

    def test_an_admin_changes_the_policy(self, login, org, alice):
        response = login(alice).post(
            BASE + "sla/settings/",
            {
                "first_contact_minutes": "30",
                "workday_start": "08:00",
                "workday_end": "18:00",
                "working_days": ["0", "1", "2", "3", "4", "5"],
                "warning_minutes": "10",
                "reassign_when_missed": "on",
                "reassign_after_minutes": "45",
            },
        )
        assert response.status_code == 302
        with tenant_context(org):
            policy = SlaPolicy.objects.get()
        assert (
            policy.first_contact_minutes,
            policy.workday_start,
            policy.working_days,
            policy.reassign_when_missed,
        ) == (
            30,
            time(8),
            [0, 1, 2, 3, 4, 5],
            True,
        )

    def test_bad_policy_input_gives_field_errors(self, login, org, alice):
        response = login(alice).post(
            BASE + "sla/settings/",
            {
                "first_contact_minutes": "0",
                "workday_start": "17:00",
                "workday_end": "09:00",
                "warning_minutes": "15",
                "reassign_after_minutes": "60",
            },
        )
        errors = response.context["form"].errors
        assert errors["first_contact_minutes"] == ["Ensure this value is greater than or equal to 1."]
        assert errors["workday_end"] == ["Must be after the start of the working day."]
        assert errors["working_days"] == ["This field is required."]
        with tenant_context(org):
            assert not SlaPolicy.objects.exists()


class TestQueueAndNotifications:
    def test_the_queue_page_lists_breached_leads_and_the_rep_table(self, login, org, bob, mike):
        lead = make_lead(org, owner=bob, company="Overdue Co")
        with tenant_context(org):
            services.sla_process(org=org)
            LeadRouting.objects.filter(lead=lead).update(sla_due_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
        page = login(mike).get(BASE + "sla/").content.decode()
        assert "Overdue Co" in page and "Breached" in page
        assert "Time to first contact" in page  # the registry's definition is shown
        assert "Overdue Co" in login(bob).get(BASE + "sla/").content.decode()

    def test_notifications_are_ones_own_with_an_unread_count_in_the_nav(self, login, org, bob, mike):
        lead = make_lead(org, owner=bob, company="Ping Co")
        with tenant_context(org):
            for person in (bob, mike):
                Notification.objects.create(
                    organization=org,
                    recipient=person,
                    kind=NotificationKind.SLA_REMINDER,
                    lead=lead,
                    message=f"For {person.full_name}",
                )
        client = login(bob)
        page = client.get(BASE + "notifications/").content.decode()
        assert "For Bob Rep" in page and "For Mike Manager" not in page
        assert "Notifications (1)" in page
        assert client.post(BASE + "notifications/").status_code == 302
        assert "Notifications (1)" not in client.get(BASE + "notifications/").content.decode()
        with tenant_context(org):
            assert Notification.objects.get(recipient=mike).read_at is None

    def test_the_lead_page_says_when_no_rule_matched(self, login, org, reps, mike):
        make_rule(org, "US only", user=reps[0], countries=["US"])
        lead = make_lead(org, company="Nowhere")
        page = login(mike).get(f"/o/acme/leads/{lead.pk}/").content.decode()
        assert "Unassigned: no routing rule matched this lead." in page
        assert "First contact due" in page


class TestLeadPanel:
    def test_without_rules_the_panel_says_not_routed_and_shows_the_deadline(self, login, org, mike):
        lead = make_lead(org, company="Plain")
        page = login(mike).get(f"/o/acme/leads/{lead.pk}/").content.decode()
        assert "Not routed: no routing rule was active when this lead arrived." in page
        assert "First contact due" in page or "SLA breached" in page

    def test_an_old_imported_lead_has_no_deadline(self, login, org, mike):
        from tests.routing.conftest import make_lead_at

        lead = make_lead_at(org, datetime(2025, 1, 6, 10, tzinfo=UTC), company="History")
        page = login(mike).get(f"/o/acme/leads/{lead.pk}/").content.decode()
        assert "it was not routed and has no first-contact deadline" in page

    def test_a_contacted_lead_says_whether_it_was_in_time(self, login, org, mike, bob):
        from leads.services import activity_log

        lead = make_lead(org, company="Called", owner=bob)
        with tenant_context(org):
            services.sla_process(org=org)
            LeadRouting.objects.filter(lead=lead).update(sla_due_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
            activity_log(org=org, actor=bob, lead_id=lead.pk, kind="call")
        page = login(mike).get(f"/o/acme/leads/{lead.pk}/").content.decode()
        assert "after the SLA deadline of 2026-01-05 10:00" in page
