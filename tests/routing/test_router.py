"""Routing rules and round robin: fairness, capacity, absence, rule order, conditions, scoring."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from funnel.routing import services
from funnel.routing.models import LeadRouting, RoutingOutcome, TeamMember
from funnel.services import stage_move
from funnel.stages import Stage
from leads.models import Industry, Lead, LeadChange, Source, Via
from leads.signals import lead_scored
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.routing.conftest import make_rule, make_team, owners_of


def test_round_robin_over_300_leads_gives_each_of_three_reps_100(org, reps):
    team = make_team(org, "Inbound", reps, capacity=500)
    make_rule(org, "Everyone", team=team)
    leads = [make_lead(org, company=f"Co {n}") for n in range(300)]
    spread = owners_of(org, leads)
    assert spread == {"rae@acme.example": 100, "sam@acme.example": 100, "tia@acme.example": 100}
    assert max(spread.values()) - min(spread.values()) <= 1


def test_round_robin_takes_turns_in_join_order_and_carries_on_where_it_stopped(org, reps):
    team = make_team(org, "Inbound", reps)
    make_rule(org, "Everyone", team=team)
    first = [make_lead(org, company=f"A{n}").owner.email for n in range(4)]
    second = [make_lead(org, company=f"B{n}").owner.email for n in range(2)]
    assert first + second == [
        "rae@acme.example",
        "sam@acme.example",
        "tia@acme.example",
        "rae@acme.example",
        "sam@acme.example",
        "tia@acme.example",
    ]


def test_capacity_counts_open_leads_and_a_full_rep_is_skipped(org, reps):
    rae, sam, _ = reps
    team = make_team(org, "Two", [rae, sam])
    with tenant_context(org):
        TeamMember.objects.filter(user=rae).update(max_open_leads=2)
        TeamMember.objects.filter(user=sam).update(max_open_leads=3)
    # Rae already holds one open lead and one closed (won) lead: only the open one counts.
    make_lead(org, owner=rae, company="Open one")
    won = make_lead(org, owner=rae, company="Won one")
    with tenant_context(org):
        stage_move(org=org, actor=None, lead_id=won.pk, to_stage=Stage.WON, amount=1000, via=Via.UI)
    make_rule(org, "Everyone", team=team)
    leads = [make_lead(org, company=f"Co {n}") for n in range(6)]
    assert owners_of(org, leads) == {"rae@acme.example": 1, "sam@acme.example": 3, None: 2}
    with tenant_context(org):
        outcomes = Counter(LeadRouting.objects.filter(lead__in=leads).values_list("outcome", flat=True))
    assert outcomes == {RoutingOutcome.ROUTED: 4, RoutingOutcome.NOBODY_AVAILABLE: 2}


def test_a_rep_holding_more_open_leads_than_the_capacity_is_full(org, reps):
    """Open leads are counted only up to the capacity (Router._is_full): beyond it is still full."""
    rae, sam, _ = reps
    team = make_team(org, "Two", [rae, sam], capacity=2)
    for n in range(3):
        make_lead(org, owner=rae, company=f"Rae's {n}")
    make_lead(org, owner=sam, company="Sam's")
    make_rule(org, "Everyone", team=team)
    leads = [make_lead(org, company=f"Co {n}") for n in range(2)]
    assert owners_of(org, leads) == {"sam@acme.example": 1, None: 1}


def test_a_deleted_lead_frees_capacity(org, reps):
    rae = reps[0]
    team = make_team(org, "Solo", [rae], capacity=1)
    make_rule(org, "Everyone", team=team)
    first = make_lead(org, company="First")
    assert first.owner == rae
    assert make_lead(org, company="Second").owner is None
    from leads.services import lead_delete

    with tenant_context(org):
        lead_delete(org=org, actor=None, lead_id=first.pk)
    assert make_lead(org, company="Third").owner == rae


def test_an_absent_rep_is_skipped(org, reps):
    sam = reps[1]
    team = make_team(org, "Inbound", reps)
    with tenant_context(org):
        member = TeamMember.objects.get(user=sam)
        services.team_member_update(org=org, member_id=member.pk, max_open_leads=None, is_absent=True)
    make_rule(org, "Everyone", team=team)
    leads = [make_lead(org, company=f"Co {n}") for n in range(4)]
    assert owners_of(org, leads) == {"rae@acme.example": 2, "tia@acme.example": 2}


def test_the_first_matching_rule_wins_and_moving_it_changes_the_winner(org, reps, mike):
    rae, sam, _ = reps
    germany = make_rule(org, "Germany to Rae", user=rae, countries=["DE"])
    make_rule(org, "Europe to Sam", user=sam, regions=["europe"])
    assert make_lead(org, company="Berlin GmbH", country="DE").owner == rae
    assert make_lead(org, company="Paris SA", country="FR").owner == sam
    assert make_lead(org, company="Austin Inc", country="US").owner is None
    with tenant_context(org):
        services.routing_rule_move(org=org, rule_id=germany.pk, direction="down")
    assert make_lead(org, company="Munich AG", country="DE").owner == sam


def test_each_condition_must_hold(org, reps):
    rae = reps[0]
    with tenant_context(org):
        software = Industry.objects.create(organization=org, name="Software")
        web = Source.objects.create(organization=org, name="Web")
    make_rule(
        org,
        "Enterprise software from the web in Europe",
        user=rae,
        regions=["europe"],
        industry_ids=[software.pk],
        segments=["enterprise"],
        source_ids=[web.pk],
    )
    matching = {"country": "DE", "industry": software, "employees": 5000, "source": web}
    assert make_lead(org, company="Match", **matching).owner == rae
    for field, other in (("country", "US"), ("industry", None), ("employees", 50), ("source", None)):
        lead = make_lead(org, company=f"Not {field}", **{**matching, field: other})
        assert lead.owner is None, field


def test_an_owner_given_is_kept_and_recorded(org, reps, mike):
    make_rule(org, "Everyone to Rae", user=reps[0])
    lead = make_lead(org, owner=mike, company="Mine")
    assert lead.owner == mike
    with tenant_context(org):
        assert LeadRouting.objects.get(lead=lead).outcome == RoutingOutcome.OWNER_GIVEN


def test_no_rule_leaves_the_lead_unassigned_and_says_so(org, reps):
    make_rule(org, "US only", user=reps[0], countries=["US"])
    lead = make_lead(org, company="Elsewhere", country="FR")
    with tenant_context(org):
        record = LeadRouting.objects.get(lead=lead)
    assert (lead.owner, record.outcome) == (None, RoutingOutcome.NO_RULE)


def test_an_inactive_rule_is_not_tried(org, reps):
    make_rule(org, "Off", user=reps[0], is_active=False)
    make_rule(org, "On", user=reps[1])
    assert make_lead(org, company="Co").owner == reps[1]


def test_a_score_rule_routes_a_lead_once_it_is_scored(org, reps):
    rae = reps[0]
    make_rule(org, "Hot leads to Rae", user=rae, min_score=50)
    lead = make_lead(org, company="Warming up")
    assert lead.owner is None  # a new lead's score is 0
    with tenant_context(org):
        Lead.objects.filter(pk=lead.pk).update(score=20)
    lead_scored.send(sender=Lead, organization_id=org.pk, lead_id=lead.pk, score=20, previous_score=0)
    with tenant_context(org):
        assert Lead.objects.get(pk=lead.pk).owner is None
        Lead.objects.filter(pk=lead.pk).update(score=70)
    lead_scored.send(sender=Lead, organization_id=org.pk, lead_id=lead.pk, score=70, previous_score=20)
    with tenant_context(org):
        lead.refresh_from_db()
        record = LeadRouting.objects.get(lead=lead)
        change = LeadChange.objects.get(lead=lead)
    assert lead.owner == rae
    assert (record.outcome, record.rule_name) == (RoutingOutcome.ROUTED, "Hot leads to Rae")
    assert (change.via, change.changes["owner"]) == (Via.SYSTEM, [None, "Rae Rep"])


def test_scoring_does_not_take_back_an_assigned_or_contacted_lead(org, reps, mike):
    rae = reps[0]
    make_rule(org, "Hot leads to Rae", user=rae, min_score=50)
    owned = make_lead(org, company="Owned", owner=mike)
    contacted = make_lead(org, company="Contacted")
    with tenant_context(org):
        from leads.services import activity_log

        activity_log(org=org, actor=mike, lead_id=contacted.pk, kind="call")
        Lead.objects.filter(pk__in=[owned.pk, contacted.pk]).update(score=90)
        for lead in (owned, contacted):
            assert services.lead_route_after_scoring(org=org, lead_id=lead.pk) is False
    assert owners_of(org, [owned, contacted]) == {"mike@acme.example": 1, None: 1}


def test_a_removed_member_is_never_chosen(org, reps):
    team = make_team(org, "Inbound", reps[:2])
    make_rule(org, "Everyone", team=team)
    from leadtrack.tenancy.models import Membership

    with tenant_context(org):
        Membership.objects.filter(user=reps[0]).delete()
    leads = [make_lead(org, company=f"Co {n}") for n in range(3)]
    assert owners_of(org, leads) == {"sam@acme.example": 3}


@pytest.mark.django_db(transaction=True)
def test_round_robin_stays_fair_when_two_threads_create_leads_at_once(org, reps):
    team = make_team(org, "Inbound", reps[:2])
    make_rule(org, "Everyone", team=team)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def create(thread: int) -> None:
        try:
            barrier.wait()
            for n in range(20):
                make_lead(org, company=f"T{thread} {n}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_context(org):
        spread = Counter(Lead.objects.values_list("owner__email", flat=True))
    print(f"\n[routing] concurrent round robin: {dict(spread)}")
    assert spread == {"rae@acme.example": 20, "sam@acme.example": 20}
