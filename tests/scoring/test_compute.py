"""The score of a lead, counted by hand on a fixed clock (tests/scoring/conftest.py NOW)."""

from __future__ import annotations

import pytest

from funnel.scoring.models import LeadScore, ScoreChange
from funnel.scoring.services import decay_factor, lead_rescore
from leads.models import ActivityKind, Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.scoring.conftest import NOW, days_before, log


def test_decay_halves_points_every_half_life():
    assert decay_factor(occurred_at=days_before(0), now=NOW, half_life_days=10) == 1.0
    assert decay_factor(occurred_at=days_before(10), now=NOW, half_life_days=10) == pytest.approx(0.5)
    assert decay_factor(occurred_at=days_before(20), now=NOW, half_life_days=10) == pytest.approx(0.25)
    assert decay_factor(occurred_at=days_before(300), now=NOW, half_life_days=None) == 1.0
    # An activity dated after the scoring clock is not worth more than a fresh one.
    assert decay_factor(occurred_at=days_before(-2), now=NOW, half_life_days=10) == 1.0


@pytest.fixture
def scored_lead(org, model, robotics):
    lead = make_lead(org, company="Cobot Works", job_title="VP Operations", employees=250, industry=robotics)
    log(org, lead, ActivityKind.DEMO, days_ago=20)
    for days in (0, 7, 14):
        log(org, lead, ActivityKind.EMAIL_REPLIED, days_ago=days)
    log(org, lead, ActivityKind.PAGE_VISIT, days_ago=3, url="https://robotix.example/pricing?plan=pro")
    log(org, lead, ActivityKind.PAGE_VISIT, days_ago=1, url="https://robotix.example/blog/cobots")
    log(org, lead, ActivityKind.CALL, days_ago=1)
    return lead


def test_it_scores_fit_and_behaviour_with_decay_as_counted_by_hand(org, scored_lead):
    with tenant_context(org):
        result = lead_rescore(org=org, lead_id=scored_lead.pk, reason="activity_logged", now=NOW)
        record = LeadScore.objects.get(lead=scored_lead)
        stored = Lead.objects.get(pk=scored_lead.pk).score
    # Fit: Robotics 15 + "VP" 10 + 250 employees in 100-999 5 = 30.
    # Demo 20 days ago, 40 points, half-life 10: 40 x 0.25 = 10.
    # Replies 0, 7 and 14 days ago, 10 points, half-life 7, at most 2 counted: 10 + 5 = 15.
    # Pricing visit (no decay) 8; the blog visit and the call match no rule.
    points = {line["name"]: line["points"] for line in record.explanation}
    assert list(points.items()) == [
        ("Robotics", 15),
        ("Senior title", 10),
        ("100-999 employees", 5),
        ("Saw a demo", 10),
        ("Replies", 15),
        ("Pricing page", 8),
    ]
    assert points == {
        "Robotics": 15,
        "Senior title": 10,
        "100-999 employees": 5,
        "Saw a demo": 10,
        "Replies": 15,
        "Pricing page": 8,
    }
    assert result.score == stored == record.score == 63
    assert record.behaviour_points == 33
    # The explanation (in rule order, above) adds up to the denormalized score.
    assert sum(line["points"] for line in record.explanation) == stored


def test_the_explanation_adds_up_after_rounding_each_rule(org, scored_lead):
    later = days_before(-5)  # demo now 25 days old: 40 x 0.5 ** 2.5 = 7.07 → 7
    with tenant_context(org):
        lead_rescore(org=org, lead_id=scored_lead.pk, reason="decay", now=later)
        record = LeadScore.objects.get(lead=scored_lead)
        score = Lead.objects.get(pk=scored_lead.pk).score
    points = {line["name"]: line["points"] for line in record.explanation}
    # Replies 5, 12 and 19 days old: 10 x 0.5 ** (5/7) + 10 x 0.5 ** (12/7) = 6.09 + 3.05 = 9.14 → 9.
    assert points["Saw a demo"] == 7
    assert points["Replies"] == 9
    assert score == 30 + 7 + 9 + 8 == sum(points.values())


def test_history_is_written_only_when_the_score_changes(org, scored_lead):
    with tenant_context(org):
        first = lead_rescore(org=org, lead_id=scored_lead.pk, reason="activity_logged", now=NOW)
        again = lead_rescore(org=org, lead_id=scored_lead.pk, reason="activity_logged", now=NOW)
        history = list(
            ScoreChange.objects.filter(lead=scored_lead).values_list("previous_score", "score", "reason")
        )
    assert first.changed and not again.changed
    assert history == [(0, 63, "activity_logged")]


def test_a_lead_matching_no_rule_scores_zero_with_an_empty_explanation(org, model):
    lead = make_lead(org, company="Nobody Inc", job_title="Intern", employees=5)
    with tenant_context(org):
        result = lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW)
        record = LeadScore.objects.get(lead=lead)
    assert (result.score, result.changed, record.explanation) == (0, False, [])


def test_keywords_match_whole_words_only(org, model):
    lead = make_lead(org, company="Savvy", job_title="Vpn engineer and Directory admin")
    with tenant_context(org):
        assert lead_rescore(org=org, lead_id=lead.pk, reason="lead_created", now=NOW).score == 0
