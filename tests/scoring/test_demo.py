"""The demo organization's scoring model (funnel/scoring/demo.py), seeded once."""

from __future__ import annotations

from funnel.scoring.demo import seed_demo_scoring
from funnel.scoring.models import LeadScore, ScoringRule, ScoringSettings
from leads.models import Industry, Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.demo import seed_demo_organizations
from leadtrack.tenancy.models import Organization
from tests.factories import make_lead


def test_the_demo_model_is_seeded_once_and_scores_the_leads_in_one_pass(db):
    seed_demo_organizations()
    robotix = Organization.objects.get(slug="robotix")
    with tenant_context(robotix):
        manufacturing = Industry.objects.create(organization=robotix, name="Manufacturing")
    fit = make_lead(
        robotix, company="Big Plant", industry=manufacturing, employees=5000, job_title="VP Operations"
    )
    plain = make_lead(robotix, company="Corner Shop", employees=4, job_title="Owner")

    assert seed_demo_scoring() == {"rules": 6, "scored": 1}
    assert seed_demo_scoring() == {"rules": 0, "scored": 0}
    with tenant_context(robotix):
        assert ScoringRule.objects.count() == 6
        # Manufacturing 15 + enterprise (5,000 employees) 20 + "VP" 15; the shop matches nothing.
        assert Lead.objects.get(pk=fit.pk).score == 50
        assert Lead.objects.get(pk=plain.pk).score == 0
        record = LeadScore.objects.get(lead=fit)
        assert sum(line["points"] for line in record.explanation) == 50
        # The demo's funnel is history: automatic MQL stays off.
        assert not ScoringSettings.objects.filter(auto_mql_enabled=True).exists()


def test_without_the_demo_organization_nothing_happens(db):
    assert seed_demo_scoring() == {"rules": 0, "scored": 0}
