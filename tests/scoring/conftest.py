"""Scoring fixtures: a three-kind model on a fixed clock, and helpers to log dated activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from funnel.scoring import services
from funnel.scoring.models import RuleKind
from leads.models import ActivityKind, Industry
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context

# The scoring clock of these tests (in the past of the real clock: activities may be logged then).
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_before(days: float) -> datetime:
    return NOW - timedelta(days=days)


def add_rule(org, **data):
    with tenant_context(org):
        return services.scoring_rule_create(org=org, actor=None, data=data, rescore_all=False)


def log(org, lead, kind, *, days_ago: float, url: str = "") -> None:
    with tenant_context(org):
        activity_log(
            org=org, actor=None, lead_id=lead.pk, kind=kind, occurred_at=days_before(days_ago), url=url
        )


def settings_set(org, *, auto_mql_enabled=False, mql_threshold=60, bant_required=4):
    with tenant_context(org):
        return services.scoring_settings_update(
            org=org,
            actor=None,
            auto_mql_enabled=auto_mql_enabled,
            mql_threshold=mql_threshold,
            bant_required=bant_required,
        )


@pytest.fixture
def robotics(org):
    with tenant_context(org):
        return Industry.objects.create(organization=org, name="Robotics")


@pytest.fixture
def model(org, robotics):
    """Three fit rules and three behaviour rules (points and half-lives chosen to count by hand)."""
    return {
        "industry": add_rule(org, name="Robotics", kind=RuleKind.INDUSTRY, industry=robotics, points=15),
        "seniority": add_rule(
            org, name="Senior title", kind=RuleKind.SENIORITY, title_keywords="VP, Director, Chief", points=10
        ),
        "size": add_rule(
            org,
            name="100-999 employees",
            kind=RuleKind.EMPLOYEES,
            employees_min=100,
            employees_max=999,
            points=5,
        ),
        "demo": add_rule(
            org,
            name="Saw a demo",
            kind=RuleKind.ACTIVITY,
            activity_kind=ActivityKind.DEMO,
            points=40,
            half_life_days=10,
        ),
        "replies": add_rule(
            org,
            name="Replies",
            kind=RuleKind.ACTIVITY,
            activity_kind=ActivityKind.EMAIL_REPLIED,
            points=10,
            half_life_days=7,
            max_count=2,
        ),
        "pricing": add_rule(
            org,
            name="Pricing page",
            kind=RuleKind.ACTIVITY,
            activity_kind=ActivityKind.PAGE_VISIT,
            url_contains="/pricing",
            points=8,
        ),
    }
