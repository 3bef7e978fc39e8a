"""The scoring page (admins) and the lead page's scoring panel and BANT checklist."""

from __future__ import annotations

import pytest

from funnel.scoring.models import BantChecklist, RescoreRun, RuleKind, ScoringRule, ScoringSettings
from leads.models import ActivityKind, LeadChange, LeadSettings
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.scoring.conftest import NOW, add_rule


def url(org, path=""):
    return f"/o/{org.slug}/scoring/{path}"


@pytest.fixture
def globex_rule(other_org):
    return add_rule(other_org, name="Theirs", kind=RuleKind.SEGMENT, segment="smb", points=3)


# --- Roles and ownership -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("mike", 403), ("bob", 403), ("vera", 403), ("charlie", 404)]
)
def test_only_admins_open_the_scoring_page(request, login, org, who, status):
    client = login(request.getfixturevalue(who))
    assert client.get(url(org)).status_code == status
    assert client.get(url(org, "rules/new/")).status_code == status


def test_another_organizations_rule_and_run_are_404(login, org, alice, other_org, globex_rule):
    client = login(alice)
    with tenant_context(other_org):
        run = RescoreRun.objects.create(organization=other_org, reason="rules_changed")
    assert client.get(url(org, f"rules/{globex_rule.pk}/")).status_code == 404
    assert client.post(url(org, f"rules/{globex_rule.pk}/delete/")).status_code == 404
    assert client.post(url(org, f"rules/{globex_rule.pk}/move/"), {"direction": "up"}).status_code == 404
    assert client.get(url(org, f"runs/{run.pk}/")).status_code == 404
    with tenant_context(other_org):
        assert ScoringRule.objects.filter(pk=globex_rule.pk).exists()


def test_a_manager_cannot_change_rules_or_settings(login, org, mike):
    client = login(mike)
    rule = add_rule(org, name="Mine", kind=RuleKind.SEGMENT, segment="smb", points=3)
    assert (
        client.post(
            url(org, "rules/new/"), {"name": "X", "kind": "segment", "segment": "smb", "points": 1}
        ).status_code
        == 403
    )
    assert client.post(url(org, f"rules/{rule.pk}/delete/")).status_code == 403
    assert client.post(url(org, "settings/"), {"mql_threshold": 1, "bant_required": 1}).status_code == 403
    assert client.post(url(org, "rescore/")).status_code == 403


# --- Rules ---------------------------------------------------------------------------------------


def test_an_admin_adds_edits_reorders_and_deletes_rules(
    login, org, alice, django_capture_on_commit_callbacks
):
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(org, "rules/new/"),
            {
                "name": "Demo",
                "kind": "activity",
                "activity_kind": "demo",
                "points": 30,
                "half_life_days": 14,
                "max_count": 1,
            },
        )
    assert response.status_code == 302
    client.post(url(org, "rules/new/"), {"name": "SMB", "kind": "segment", "segment": "smb", "points": 5})
    with tenant_context(org):
        demo, smb = ScoringRule.objects.order_by("position")
    assert (demo.kind, demo.activity_kind, demo.half_life_days, smb.segment) == (
        "activity",
        "demo",
        14,
        "smb",
    )
    client.post(url(org, f"rules/{smb.pk}/move/"), {"direction": "up"})
    response = client.post(
        url(org, f"rules/{demo.pk}/"),
        {"name": "Demo seen", "kind": "activity", "activity_kind": "demo", "points": 35},
    )
    assert response.status_code == 302
    with tenant_context(org):
        assert list(ScoringRule.objects.order_by("position").values_list("name", "points")) == [
            ("SMB", 5),
            ("Demo seen", 35),
        ]
    page = client.get(url(org)).content.decode()
    assert page.index("SMB") < page.index("Demo seen")
    assert client.get(url(org, f"rules/{smb.pk}/delete/")).status_code == 200
    assert client.post(url(org, f"rules/{smb.pk}/delete/")).status_code == 302
    with tenant_context(org):
        assert list(ScoringRule.objects.values_list("name", flat=True)) == ["Demo seen"]
        assert RescoreRun.objects.count() == 4  # create, create, edit, delete (a move changes no points)


def test_a_kinds_unused_parameters_are_cleared(login, org, alice):
    login(alice).post(
        url(org, "rules/new/"),
        {
            "name": "SMB",
            "kind": "segment",
            "segment": "smb",
            "points": 5,
            "activity_kind": "demo",
            "url_contains": "/x",
        },
    )
    with tenant_context(org):
        rule = ScoringRule.objects.get()
    assert (rule.segment, rule.activity_kind, rule.url_contains) == ("smb", "", "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "industry"}, "industry", "Choose the industry."),
        ({"kind": "segment"}, "segment", "Choose the segment."),
        ({"kind": "region"}, "region", "Choose the region."),
        ({"kind": "employees"}, "employees_min", "Give a minimum, a maximum or both."),
        (
            {"kind": "employees", "employees_min": 500, "employees_max": 100},
            "employees_max",
            "Must be at least the minimum.",
        ),
        ({"kind": "seniority", "title_keywords": " , "}, "title_keywords", "Give at least one keyword"),
        ({"kind": "activity"}, "activity_kind", "Choose the kind of activity."),
        (
            {"kind": "activity", "activity_kind": "demo", "half_life_days": 0},
            "half_life_days",
            "greater than or equal to 1",
        ),
        ({"kind": "segment", "segment": "smb", "points": 0}, "points", "0 points changes nothing"),
        ({"kind": "segment", "segment": "smb", "points": "many"}, "points", "Enter a whole number."),
        ({"kind": "segment", "segment": "smb", "points": 5000}, "points", "less than or equal to 1000"),
        ({"kind": "nonsense"}, "kind", "Select a valid choice."),
        ({"kind": "segment", "segment": "smb", "name": ""}, "name", "This field is required."),
    ],
)
def test_bad_rule_input_is_a_field_error(login, org, alice, data, field, message):
    body = {"name": "Rule", "points": 5, **data}
    response = login(alice).post(url(org, "rules/new/"), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    with tenant_context(org):
        assert not ScoringRule.objects.exists()


def test_another_organizations_industry_is_not_a_choice(login, org, alice, other_org):
    from leads.models import Industry

    with tenant_context(other_org):
        theirs = Industry.objects.create(organization=other_org, name="Theirs")
    response = login(alice).post(
        url(org, "rules/new/"), {"name": "X", "kind": "industry", "industry": theirs.pk, "points": 5}
    )
    assert "industry" in response.context["form"].errors


# --- Settings and rescoring ----------------------------------------------------------------------


def test_settings_are_saved_and_bad_ones_are_field_errors(login, org, alice):
    client = login(alice)
    response = client.post(
        url(org, "settings/"), {"auto_mql_enabled": "on", "mql_threshold": "-3", "bant_required": "5"}
    )
    assert response.status_code == 200
    errors = response.context["settings_form"].errors
    assert set(errors) == {"mql_threshold", "bant_required"}
    assert (
        client.post(
            url(org, "settings/"), {"auto_mql_enabled": "on", "mql_threshold": "70", "bant_required": "3"}
        ).status_code
        == 302
    )
    with tenant_context(org):
        saved = ScoringSettings.objects.get()
    assert (saved.auto_mql_enabled, saved.mql_threshold, saved.bant_required) == (True, 70, 3)
    assert client.get(url(org, "settings/")).status_code == 302


def test_rescore_all_shows_its_progress(login, org, alice, django_capture_on_commit_callbacks):
    make_lead(org, company="One")
    make_lead(org, company="Two")
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url(org, "rescore/")).status_code == 302
    with tenant_context(org):
        run = RescoreRun.objects.get()
    progress = client.get(url(org, f"runs/{run.pk}/")).json()
    assert (progress["status"], progress["total"], progress["done"], progress["percent"]) == (
        "done",
        2,
        2,
        100,
    )
    page = client.get(url(org)).content.decode()
    assert 'id="rescore-run"' in page and "scoring/progress.js" in page


# --- The lead page -------------------------------------------------------------------------------


def test_the_lead_page_explains_the_score(login, org, alice, robotics):
    add_rule(org, name="Robotics", kind=RuleKind.INDUSTRY, industry=robotics, points=15)
    add_rule(org, name="Demo", kind=RuleKind.ACTIVITY, activity_kind=ActivityKind.DEMO, points=40)
    lead = make_lead(org, company="Arm Co", industry=robotics)
    from funnel.scoring.services import lead_rescore

    with tenant_context(org):
        lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
    page = login(alice).get(f"/o/{org.slug}/leads/{lead.pk}/").content.decode()
    assert 'data-testid="lead-score">15<' in page
    assert "Robotics" in page and "+15" in page and "industry Robotics" in page
    assert "0 → <strong>15</strong> (lead created)" in page
    assert "Save checklist" in page


# --- BANT ----------------------------------------------------------------------------------------


def _tick(client, org, lead, **boxes):
    return client.post(url(org, f"leads/{lead.pk}/bant/"), {name: "on" for name, on in boxes.items() if on})


def _checklist(org, lead):
    with tenant_context(org):
        return BantChecklist.objects.filter(lead=lead).first()


def test_a_rep_ticks_bant_on_their_own_lead(login, org, bob):
    lead = make_lead(org, company="Mine", owner=bob)
    response = _tick(login(bob), org, lead, budget=True, need=True, timeline=True)
    assert response.status_code == 302
    checklist = _checklist(org, lead)
    assert (checklist.budget, checklist.authority, checklist.need, checklist.timeline) == (
        True,
        False,
        True,
        True,
    )
    assert checklist.meets_criteria is False  # the default rule: all four
    with tenant_context(org):
        change = LeadChange.objects.filter(lead=lead).latest("changed_at")
    assert change.changes == {
        "BANT budget": ["no", "yes"],
        "BANT need": ["no", "yes"],
        "BANT timeline": ["no", "yes"],
    }


def test_a_rep_and_another_reps_lead_follow_the_lead_page_rules(login, org, bob, mike):
    theirs = make_lead(org, company="Theirs", owner=mike)
    client = login(bob)
    # Reps see only their own leads by default: another's is not found.
    assert _tick(client, org, theirs, budget=True).status_code == 404
    with tenant_context(org):
        LeadSettings.objects.update_or_create(organization=org, defaults={"reps_see_all_leads": True})
    # Visible now, but not theirs to edit.
    assert _tick(client, org, theirs, budget=True).status_code == 403
    # An unassigned lead is editable by any rep (leads.selectors.lead_can_edit).
    unassigned = make_lead(org, company="Nobody's")
    assert _tick(client, org, unassigned, budget=True).status_code == 302
    assert _checklist(org, theirs) is None


def test_a_viewer_cannot_tick_bant_and_sees_no_form(login, org, vera):
    lead = make_lead(org, company="Any")
    client = login(vera)
    assert _tick(client, org, lead, budget=True).status_code == 403
    page = client.get(f"/o/{org.slug}/leads/{lead.pk}/").content.decode()
    assert "Save checklist" not in page and "Budget: no" in page


def test_another_organizations_lead_is_404_for_bant(login, org, alice, other_org):
    theirs = make_lead(other_org, company="Globex lead")
    assert _tick(login(alice), org, theirs, budget=True).status_code == 404


def test_a_new_bant_rule_reevaluates_every_checklist(login, org, alice):
    lead = make_lead(org, company="Three")
    client = login(alice)
    _tick(client, org, lead, budget=True, authority=True, need=True)
    assert _checklist(org, lead).meets_criteria is False
    client.post(url(org, "settings/"), {"mql_threshold": "60", "bant_required": "3"})
    assert _checklist(org, lead).meets_criteria is True
