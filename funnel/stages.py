"""Funnel stages and the moves between them: the one definition (docs/metrics.md).

Open stages run lead → mql → sql → opportunity; a lead closes as won or lost;
any open lead may be disqualified; a disqualified or lost lead may be recycled
back to ``lead``. A forward move may skip stages: the lead then counts as
having reached every skipped stage at the time of the jump.
"""

from __future__ import annotations

from django.db import models


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SQL = "sql", "SQL"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Closed won"
    LOST = "lost", "Closed lost"
    DISQUALIFIED = "disqualified", "Disqualified"


OPEN_STAGES: tuple[Stage, ...] = (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)
CLOSED_STAGES: tuple[Stage, ...] = (Stage.WON, Stage.LOST)
# The funnel ladder: reaching a rung means reaching every rung below it.
LADDER: tuple[Stage, ...] = (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.WON)
# Lead field holding the first time each rung (or a later one) was reached.
REACHED_FIELD: dict[Stage, str] = {
    Stage.MQL: "reached_mql_at",
    Stage.SQL: "reached_sql_at",
    Stage.OPPORTUNITY: "reached_opportunity_at",
}


def allowed_targets(current: str) -> frozenset[Stage]:
    """Stages a lead in ``current`` may move to."""
    if current in OPEN_STAGES:
        index = OPEN_STAGES.index(Stage(current))
        forward = set(OPEN_STAGES[index + 1 :])
        targets = forward | {Stage.WON, Stage.DISQUALIFIED}
        if current == Stage.OPPORTUNITY:
            targets.add(Stage.LOST)
        return frozenset(targets)
    if current in (Stage.LOST, Stage.DISQUALIFIED):
        return frozenset({Stage.LEAD})
    return frozenset()  # won is final


def stages_reached_by(target: str) -> tuple[Stage, ...]:
    """The ladder rungs a move to ``target`` counts as reaching (skips included)."""
    if target == Stage.LOST:
        # Closing lost happens from an opportunity: it reaches nothing new.
        return ()
    if target not in LADDER:
        return ()
    return LADDER[1 : LADDER.index(Stage(target)) + 1]
