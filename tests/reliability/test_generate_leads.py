"""The benchmark's data generator writes what the app's own rules would have written.

Benchmark figures are only meaningful on realistic rows: derived fields as leads.rules
derives them, stage histories as funnel.services.stage_move records them, funnel and
contact timestamps consistent with the transitions and activities, and every row inside
its organization (the COPY route goes through RLS's WITH CHECK).
"""

from __future__ import annotations

from django.core.management import call_command
from django.db.models import Count, Min, Q

from funnel.models import StageTransition
from funnel.stages import LADDER, Stage
from leads import rules
from leads.models import MEETING_KINDS, OUTBOUND_KINDS, Activity, Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Membership, Organization

REACHED = {"reached_mql_at": LADDER[1:], "reached_sql_at": LADDER[2:], "reached_opportunity_at": LADDER[3:]}


def _generate(**options) -> None:
    args = []
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    call_command("generate_leads", *args)


def test_generated_rows_follow_the_app_rules(db, other_org):
    _generate(org="gen", leads=400, activities=1200, seed=5, chunk=150, small_orgs=2, small_leads=30)
    org = Organization.objects.get(slug="gen")
    with tenant_context(org):
        leads = list(Lead.objects.all())
        settings_row = rules.lead_settings(org=org)
        assert len(leads) == 400
        assert Activity.objects.count() == 1200
        assert Membership.objects.count() == 10  # admin, manager, 8 reps
        derived = sum(
            (lead.domain, lead.region, lead.segment, lead.email)
            != (
                rules.domain_from(website=lead.website, email=lead.email),
                rules.region_for(org=org, country=str(lead.country or "")),
                rules.segment_for(employees=lead.employees, rules=settings_row),
                rules.normalize_email(lead.email),
            )
            for lead in leads
        )
        creations = StageTransition.objects.filter(from_stage="", to_stage=Stage.LEAD).count()
        reached = Lead.objects.annotate(
            **{
                f"first_{field}": Min("transitions__at", filter=Q(transitions__to_stage__in=stages))
                for field, stages in REACHED.items()
            },
            first_contact=Min("activities__occurred_at", filter=Q(activities__kind__in=OUTBOUND_KINDS)),
            first_meeting=Min("activities__occurred_at", filter=Q(activities__kind__in=MEETING_KINDS)),
        )
        funnel_mismatches = sum(
            getattr(lead, field) != getattr(lead, f"first_{field}") for lead in reached for field in REACHED
        )
        contact_mismatches = sum(
            (lead.first_contacted_at, lead.first_meeting_at) != (lead.first_contact, lead.first_meeting)
            for lead in reached
        )
        last_stage_mismatches = sum(
            lead.stage != lead.transitions.order_by("-at", "-pk").values_list("to_stage", flat=True)[0]
            for lead in leads
        )
        closed_without_date = Lead.objects.filter(stage__in=[Stage.WON, Stage.LOST], closed_at__isnull=True)
        stages = dict(Lead.objects.values_list("stage").annotate(n=Count("id")))
    print(
        f"\n[generator] leads=400 derived_mismatches={derived} funnel_mismatches={funnel_mismatches} "
        f"contact_mismatches={contact_mismatches} stage_mismatches={last_stage_mismatches} stages={stages}"
    )
    assert derived == funnel_mismatches == contact_mismatches == last_stage_mismatches == 0
    assert creations == 400
    assert not closed_without_date.exists()
    assert len(stages) == len(Stage)
    with tenant_context(other_org):
        assert Lead.objects.count() == 0
    for slug in ("gen-s001", "gen-s002"):
        with tenant_context(Organization.objects.get(slug=slug)):
            assert Lead.objects.count() == 30


def test_a_second_run_appends_to_the_organization(db):
    _generate(org="again", leads=50, activities=0, seed=1)
    _generate(org="again", leads=50, activities=0, seed=1)
    with tenant_context(Organization.objects.get(slug="again")):
        assert Lead.objects.count() == 100
        assert Lead.objects.exclude(email="").values("email").distinct().count() == (
            Lead.objects.exclude(email="").count()
        )
