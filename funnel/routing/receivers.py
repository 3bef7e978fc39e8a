"""Routing's subscriptions to other apps' domain events."""

from __future__ import annotations

from funnel.routing.tasks import lead_route_after_scoring_task


def on_lead_scored(
    sender, *, organization_id: int, lead_id: int, score: int, previous_score: int, **kwargs
) -> None:
    """A score rule may now match: only a higher score can newly reach a rule's minimum."""
    if score > (previous_score or 0):
        lead_route_after_scoring_task.delay(organization_id=organization_id, lead_id=lead_id)
