"""The scoring model of the demo organization ``robotix`` (idempotent).

``seed_demo_scoring()`` is called by ``seed_demo`` after the demo leads exist: six rules (three on
fit, three on behaviour with decay), automatic MQL left off (the demo's funnel is history), and
every lead scored in batches.
"""

from __future__ import annotations

from django.db import transaction

from leads.models import ActivityKind, Industry, Segment
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

from . import services
from .models import RuleKind, ScoreReason, ScoringRule

DEMO_ORGANIZATION = "robotix"


def _demo_rules(org: Organization) -> list[dict]:
    manufacturing = Industry.objects.filter(organization=org, name="Manufacturing").first()
    fit = []
    if manufacturing is not None:
        fit.append(
            {"name": "Manufacturing", "kind": RuleKind.INDUSTRY, "industry": manufacturing, "points": 15}
        )
    return [
        *fit,
        {"name": "Enterprise account", "kind": RuleKind.SEGMENT, "segment": Segment.ENTERPRISE, "points": 20},
        {
            "name": "Senior decision maker",
            "kind": RuleKind.SENIORITY,
            "title_keywords": services.DEFAULT_SENIORITY_KEYWORDS,
            "points": 15,
        },
        {
            "name": "Saw a demo",
            "kind": RuleKind.ACTIVITY,
            "activity_kind": ActivityKind.DEMO,
            "points": 25,
            "half_life_days": 90,
        },
        {
            "name": "Replied to our e-mails",
            "kind": RuleKind.ACTIVITY,
            "activity_kind": ActivityKind.EMAIL_REPLIED,
            "points": 10,
            "half_life_days": 30,
            "max_count": 3,
        },
        {
            "name": "Visited the pricing page",
            "kind": RuleKind.ACTIVITY,
            "activity_kind": ActivityKind.PAGE_VISIT,
            "url_contains": "/pricing",
            "points": 10,
            "half_life_days": 14,
        },
    ]


def seed_demo_scoring() -> dict[str, int]:
    """Create robotix's scoring model and score its leads; zero counts when run again."""
    created = {"rules": 0, "scored": 0}
    org = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if org is None:
        return created
    with tenant_context(org), transaction.atomic():
        if ScoringRule.objects.filter(organization=org).exists():
            return created
        for data in _demo_rules(org):
            services.scoring_rule_create(org=org, actor=None, data=data, rescore_all=False)
            created["rules"] += 1
        created["scored"] = services.leads_rescore_all(org=org, reason=ScoreReason.RULES_CHANGED)
    return created
