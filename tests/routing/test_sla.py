"""First-contact SLA: deadlines in working time (by hand, fixed clocks), the queue, reminders once,
reassignment after the second period, and time to first contact per rep."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection

from funnel.routing import selectors, services
from funnel.routing.models import LeadRouting, Notification, NotificationKind, RoutingOutcome
from funnel.routing.sla import add_working_minutes
from funnel.routing.tasks import sla_process_all
from leads.models import Lead, LeadChange, Via
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership
from tests.factories import make_lead
from tests.routing.conftest import make_lead_at, make_rule, make_team

UTC_TZ = ZoneInfo("UTC")
NINE_TO_FIVE = {"workday_start": time(9), "workday_end": time(17), "working_days": [0, 1, 2, 3, 4]}
# 2026-11-20 is a Friday.
FRIDAY_1630 = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # Within the day.
        (datetime(2026, 11, 17, 10, 0), 60, datetime(2026, 11, 17, 11, 0)),
        # Friday 16:30: 30 minutes on Friday, 30 on Monday morning.
        (datetime(2026, 11, 20, 16, 30), 60, datetime(2026, 11, 23, 9, 30)),
        # Saturday: the clock starts on Monday at 09:00.
        (datetime(2026, 11, 21, 11, 0), 60, datetime(2026, 11, 23, 10, 0)),
        # Before opening and after closing.
        (datetime(2026, 11, 17, 7, 0), 60, datetime(2026, 11, 17, 10, 0)),
        (datetime(2026, 11, 17, 20, 0), 60, datetime(2026, 11, 18, 10, 0)),
        # Exactly at closing time: the whole period is on the next working day.
        (datetime(2026, 11, 17, 17, 0), 15, datetime(2026, 11, 18, 9, 15)),
        # 600 minutes from Friday 16:30: 30 Friday + 480 Monday + 90 Tuesday.
        (datetime(2026, 11, 20, 16, 30), 600, datetime(2026, 11, 24, 10, 30)),
    ],
)
def test_deadlines_count_working_minutes_only(start, minutes, due):
    result = add_working_minutes(start=start.replace(tzinfo=UTC), minutes=minutes, tz=UTC_TZ, **NINE_TO_FIVE)
    assert result == due.replace(tzinfo=UTC)


def test_working_hours_are_the_organizations_local_hours():
    # Friday 16:30 in New York (EST, UTC-5) is 21:30 UTC; due Monday 09:30 New York = 14:30 UTC.
    result = add_working_minutes(
        start=datetime(2026, 11, 20, 21, 30, tzinfo=UTC),
        minutes=60,
        tz=ZoneInfo("America/New_York"),
        **NINE_TO_FIVE,
    )
    assert result == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def test_a_six_day_week_counts_saturday():
    result = add_working_minutes(
        start=datetime(2026, 11, 20, 16, 30, tzinfo=UTC),
        minutes=60,
        tz=UTC_TZ,
        workday_start=time(9),
        workday_end=time(17),
        working_days=[0, 1, 2, 3, 4, 5],
    )
    assert result == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _friday_lead(org, **data):
    """A lead created on Friday at 16:30 in an organization without rules; the SLA task records it."""
    lead = make_lead_at(org, FRIDAY_1630, **data)
    with tenant_context(org):
        services.sla_process(org=org, now=FRIDAY_1630 + timedelta(minutes=5))
        return lead, LeadRouting.objects.get(lead=lead)


def test_without_rules_the_sla_task_records_new_leads_with_their_deadline(org, bob):
    _lead, record = _friday_lead(org, owner=bob)
    assert (record.outcome, record.sla_due_at, record.reassign_at) == (
        RoutingOutcome.NOT_ROUTED,
        datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
    )


def test_an_import_of_history_gets_no_deadline(org, bob):
    lead = make_lead_at(org, FRIDAY_1630, owner=bob)
    with tenant_context(org):
        services.sla_process(org=org, now=FRIDAY_1630 + timedelta(days=3))
        assert not LeadRouting.objects.filter(lead=lead).exists()


def test_the_owner_is_reminded_once_at_the_deadline_in_app_and_by_email(
    org, bob, django_capture_on_commit_callbacks
):
    lead, _record = _friday_lead(org, owner=bob, company="Weekend Co")
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    with tenant_context(org), django_capture_on_commit_callbacks(execute=True):
        assert services.sla_process(org=org, now=monday.replace(hour=9, minute=29)).reminded == 0
        assert services.sla_process(org=org, now=monday.replace(hour=9, minute=30)).reminded == 1
        assert services.sla_process(org=org, now=monday.replace(hour=9, minute=35)).reminded == 0
        notifications = list(Notification.objects.values_list("recipient__email", "kind", "lead_id"))
    assert notifications == [("bob@acme.example", NotificationKind.SLA_REMINDER, lead.pk)]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@acme.example"]
    assert "Weekend Co" in mail.outbox[0].subject
    assert f"/o/acme/leads/{lead.pk}/" in mail.outbox[0].body


def test_a_contacted_or_unassigned_lead_gets_no_reminder(org, bob, mike):
    contacted, _ = _friday_lead(org, owner=bob, company="Called")
    _unassigned, _ = _friday_lead(org, company="Nobody's")
    with tenant_context(org):
        activity_log(org=org, actor=bob, lead_id=contacted.pk, kind="call", occurred_at=FRIDAY_1630)
        run = services.sla_process(org=org, now=datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert run.reminded == 0


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_remind_once(org, bob):
    for n in range(5):
        _friday_lead(org, owner=bob, company=f"Co {n}", email=f"p{n}@co{n}.example")
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            with tenant_context(org):
                counts.append(
                    services.sla_process(org=org, now=datetime(2026, 11, 23, 12, tzinfo=UTC)).reminded
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tenant_context(org):
        notifications = Notification.objects.count()
    assert sorted(counts) in ([0, 5], [1, 4], [2, 3])  # the runs split the rows between them
    assert sum(counts) == notifications == 5
    assert len(mail.outbox) == 5


def _routed_to_rae(org, reps, *, reassign: bool):
    team = make_team(org, "Inbound", reps[:2])
    make_rule(org, "Everyone", team=team)
    with tenant_context(org):
        services.sla_policy_update(
            org=org, data={"reassign_when_missed": reassign, "reassign_after_minutes": 120}
        )
    lead = make_lead(org, company="Slow Co")
    assert lead.owner == reps[0]
    with tenant_context(org):
        # Move the clock through the data: the deadline and the second period have passed.
        LeadRouting.objects.filter(lead=lead).update(
            sla_due_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
            reassign_at=datetime(2026, 11, 23, 11, 30, tzinfo=UTC),
        )
    return lead


def test_after_the_second_period_the_lead_is_reassigned_through_the_rules(
    org, reps, django_capture_on_commit_callbacks
):
    _rae, sam, _ = reps
    lead = _routed_to_rae(org, reps, reassign=True)
    with tenant_context(org), django_capture_on_commit_callbacks(execute=True):
        first = services.sla_process(org=org, now=datetime(2026, 11, 23, 11, 29, tzinfo=UTC))
        second = services.sla_process(org=org, now=datetime(2026, 11, 23, 11, 31, tzinfo=UTC))
        third = services.sla_process(org=org, now=datetime(2026, 11, 23, 11, 40, tzinfo=UTC))
        lead.refresh_from_db()
        record = LeadRouting.objects.get(lead=lead)
        change = LeadChange.objects.get(lead=lead)
        notified = sorted(Notification.objects.values_list("recipient__email", "kind"))
    assert (first.reminded, first.reassigned) == (1, 0)
    assert (second.reminded, second.reassigned) == (0, 1)
    assert (third.reminded, third.reassigned) == (0, 0)
    assert lead.owner == sam
    assert (change.actor, change.via, change.changes) == (None, Via.SYSTEM, {"owner": ["Rae Rep", "Sam Rep"]})
    assert record.reassigned_at == datetime(2026, 11, 23, 11, 31, tzinfo=UTC)
    # Sam gets a fresh first-contact period from the reassignment: Monday 11:31 + 60 working minutes.
    assert (record.sla_due_at, record.reminded_at) == (datetime(2026, 11, 23, 12, 31, tzinfo=UTC), None)
    assert record.note == "First contact missed by Rae Rep; reassigned to Sam Rep."
    assert notified == [
        ("rae@acme.example", NotificationKind.SLA_REMINDER),
        ("sam@acme.example", NotificationKind.SLA_REASSIGNED),
    ]
    assert [message.to for message in mail.outbox] == [["rae@acme.example"], ["sam@acme.example"]]


def test_no_reassignment_unless_the_policy_says_so(org, reps):
    lead = _routed_to_rae(org, reps, reassign=False)
    with tenant_context(org):
        run = services.sla_process(org=org, now=datetime(2026, 11, 23, 12, tzinfo=UTC))
        lead.refresh_from_db()
    assert (run.reminded, run.reassigned, lead.owner) == (1, 0, reps[0])


def test_with_nobody_else_available_the_lead_stays_and_the_record_says_why(org, reps):
    lead = _routed_to_rae(org, reps, reassign=True)
    with tenant_context(org):
        Membership.objects.filter(user=reps[1]).delete()
        run = services.sla_process(org=org, now=datetime(2026, 11, 23, 12, tzinfo=UTC))
        lead.refresh_from_db()
        record = LeadRouting.objects.get(lead=lead)
    assert (run.reassigned, run.kept, lead.owner) == (0, 1, reps[0])
    assert record.note == "First contact missed; no other rep available, stays with Rae Rep."


def test_the_beat_fan_out_queues_one_task_per_organization(org, other_org, bob):
    _friday_lead(org, owner=bob)
    assert sla_process_all() == 2


def test_the_queue_holds_breached_and_nearly_due_leads_and_reps_see_their_own(org, bob, mike, reps):
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    due = {
        "Breached": now - timedelta(minutes=1),
        "Due in 15": now + timedelta(minutes=15),
        "Due in 16": now + timedelta(minutes=16),
        "Contacted": now - timedelta(hours=1),
        "Mike's breached": now - timedelta(hours=2),
    }
    leads = {}
    for name, deadline in due.items():
        leads[name] = make_lead(org, company=name, owner=mike if name.startswith("Mike") else bob)
        with tenant_context(org):
            services.sla_process(org=org)  # records the lead
            LeadRouting.objects.filter(lead=leads[name]).update(sla_due_at=deadline)
    with tenant_context(org):
        activity_log(org=org, actor=bob, lead_id=leads["Contacted"].pk, kind="email_sent")
        bob_membership = Membership.objects.get(user=bob)
        mike_membership = Membership.objects.get(user=mike)
        for_bob = [r.lead.company for r in selectors.sla_queue(org=org, membership=bob_membership, now=now)]
        for_mike = [r.lead.company for r in selectors.sla_queue(org=org, membership=mike_membership, now=now)]
    assert for_bob == ["Breached", "Due in 15"]
    assert for_mike == ["Mike's breached", "Breached", "Due in 15"]


def test_time_to_first_contact_per_rep_uses_the_registry(org, bob, mike):
    now = datetime.now(UTC).replace(microsecond=0)
    created = now - timedelta(days=2)
    # Bob: contacted after 2 h and after 30 h (the report settings' SLA is 24 h): median 16 h, 1 of 2.
    # Mike: one lead contacted after 1 h: 1.0 h, 1 of 1.
    for company, owner, hours in (("B1", bob, 2), ("B2", bob, 30), ("M1", mike, 1)):
        lead = make_lead_at(org, created, company=company, owner=owner)
        with tenant_context(org):
            activity_log(
                org=org,
                actor=owner,
                lead_id=lead.pk,
                kind="call",
                occurred_at=created + timedelta(hours=hours),
            )
    with tenant_context(org):
        table = selectors.first_contact_by_rep(
            org=org,
            membership=Membership.objects.get(user=mike),
            date_from=(now - timedelta(days=10)).date(),
            date_to=now.date(),
        )
        bob_only = selectors.first_contact_by_rep(
            org=org,
            membership=Membership.objects.get(user=bob),
            date_from=(now - timedelta(days=10)).date(),
            date_to=now.date(),
        )
    rows = {
        row["owner_label"]: (
            row["values"]["time_to_first_contact"].value,
            row["values"]["time_to_first_contact"].n,
            row["values"]["first_contact_within_sla"].numerator,
            row["values"]["first_contact_within_sla"].denominator,
        )
        for row in table.rows
    }
    assert rows == {"Bob Rep": (16.0, 2, 1.0, 2.0), "Mike Manager": (1.0, 1, 1.0, 1.0)}
    assert [row["owner_label"] for row in bob_only.rows] == ["Bob Rep"]


def test_leads_are_unchanged_by_reading_the_queue(org, bob):
    lead, _ = _friday_lead(org, owner=bob)
    with tenant_context(org):
        before = Lead.objects.get(pk=lead.pk).version
        list(selectors.sla_queue(org=org, membership=Membership.objects.get(user=bob)))
        assert Lead.objects.get(pk=lead.pk).version == before


def test_reassignments_in_one_run_see_the_capacity_the_earlier_ones_used(org, reps):
    """Sam (capacity 2) takes a German lead by a person rule, then is the team's only member for
    the next one: he holds 1 open lead of 2 and gets it. A router shared by the run counted the
    first lead twice, as saved and as its own assignment, and found Sam full."""
    _rae, sam, tia = reps
    team = make_team(org, "Inbound", [sam], capacity=2)
    make_rule(org, "Germany to Sam", user=sam, countries=["DE"])
    make_rule(org, "Everyone", team=team)
    with tenant_context(org):
        services.sla_policy_update(
            org=org, data={"reassign_when_missed": True, "reassign_after_minutes": 120}
        )
    german = make_lead(org, company="Berlin Co", country="DE", owner=tia)
    french = make_lead(org, company="Paris Co", country="FR", owner=tia)
    with tenant_context(org):
        for minute, lead in ((0, german), (1, french)):
            LeadRouting.objects.filter(lead=lead).update(
                sla_due_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
                reassign_at=datetime(2026, 11, 23, 11, minute, tzinfo=UTC),
            )
        run = services.sla_process(org=org, now=datetime(2026, 11, 23, 12, tzinfo=UTC))
        owners = dict(Lead.objects.filter(pk__in=[german.pk, french.pk]).values_list("company", "owner"))
    assert (run.reassigned, run.kept) == (2, 0)
    assert owners == {"Berlin Co": sam.pk, "Paris Co": sam.pk}
