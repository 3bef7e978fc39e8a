"""Generated lead histories for the predictive score: a seeded generator with a known signal, or
none. Rows are bulk-created like the demo seeder does (leadtrack/tenancy/demo_data.py): hundreds
of leads through the services would make every test slow, and these tests are about the model."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from funnel.models import StageTransition
from funnel.stages import Stage
from leads.models import Activity, ActivityKind, ChannelType, Industry, Lead, Segment, Source
from leadtrack.tenancy.context import tenant_context

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class History:
    won: int = 0
    lost: int = 0
    disqualified: int = 0
    open: int = 0
    open_ids: list[int] = field(default_factory=list)
    closed_ids: list[int] = field(default_factory=list)


def signal_win_probability(segment: str, industry: str, demos: int) -> float:
    """The generator's truth: enterprise, software and demos win; SMB and retail do not."""
    logit = -0.5
    logit += {Segment.ENTERPRISE: 1.5, Segment.MID_MARKET: 0.0, Segment.SMB: -1.5}[segment]
    logit += {"Software": 1.0, "Retail": -1.0, "Health": 0.0}[industry]
    logit += 0.8 * demos
    return 1 / (1 + math.exp(-logit))


def build_history(org, *, closed: int, open_leads: int = 0, seed: int = 7, signal: bool = True) -> History:
    """``closed`` closed leads (won, lost or disqualified) and ``open_leads`` open ones.

    With ``signal``, outcomes follow ``signal_win_probability``; without, every lead is won with
    probability 0.4 whatever its fields (pure noise)."""
    rng = random.Random(seed)
    history = History()
    with tenant_context(org):
        industries = {
            name: Industry.objects.get_or_create(organization=org, name=name)[0]
            for name in ("Software", "Retail", "Health")
        }
        sources = [
            Source.objects.get_or_create(organization=org, name=name, defaults={"channel_type": channel})[0]
            for name, channel in (("Website", ChannelType.WEB_FORM), ("Ads", ChannelType.PAID))
        ]
        leads, plans = [], []
        for index in range(closed + open_leads):
            segment = rng.choice(list(Segment.values))
            industry = rng.choice(list(industries))
            demos = rng.choice([0, 0, 1, 2])
            is_open = index >= closed
            if signal:
                won = rng.random() < signal_win_probability(segment, industry, demos)
            else:
                won = rng.random() < 0.4
            created = START + timedelta(days=index % 300, hours=index % 7)
            closed_at = created + timedelta(days=10 + rng.randint(0, 20))
            stage = (
                Stage.LEAD
                if is_open
                else (Stage.WON if won else rng.choice([Stage.LOST, Stage.DISQUALIFIED]))
            )
            leads.append(
                Lead(
                    organization=org,
                    company=f"Company {seed}-{index}",
                    email=f"lead{index}@c{seed}-{index}.example",
                    segment=segment,
                    industry=industries[industry],
                    source=rng.choice(sources),
                    job_title=rng.choice(["CEO", "VP Sales", "Engineer", ""]),
                    phone=rng.choice(["", "+1 555 0100"]),
                    employees=rng.choice([None, 20, 300, 5000]),
                    stage=stage,
                    created_at=created,
                    closed_at=closed_at if stage in (Stage.WON, Stage.LOST) else None,
                    won_amount=1000 if stage == Stage.WON else None,
                )
            )
            plans.append((stage, demos, closed_at))
        Lead.objects.bulk_create(leads, batch_size=500)
        activities, transitions = [], []
        for lead, (stage, demos, closed_at) in zip(leads, plans, strict=True):
            for number in range(demos):
                activities.append(
                    Activity(
                        organization=org,
                        lead=lead,
                        kind=ActivityKind.DEMO,
                        occurred_at=lead.created_at + timedelta(days=1 + number),
                    )
                )
            if stage == Stage.DISQUALIFIED:
                transitions.append(
                    StageTransition(
                        organization=org,
                        lead=lead,
                        from_stage=Stage.LEAD,
                        to_stage=Stage.DISQUALIFIED,
                        at=closed_at,
                        reason="No budget",
                    )
                )
            if stage in (Stage.LEAD,):
                history.open += 1
                history.open_ids.append(lead.pk)
            else:
                history.closed_ids.append(lead.pk)
                setattr(
                    history,
                    {"won": "won", "lost": "lost", "disqualified": "disqualified"}[stage],
                    getattr(history, stage) + 1,
                )
        Activity.objects.bulk_create(activities, batch_size=2000)
        StageTransition.objects.bulk_create(transitions, batch_size=2000)
    return history


@pytest.fixture
def history_factory():
    return build_history
