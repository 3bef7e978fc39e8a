"""Subscriptions of the referral program to other apps' domain events."""

from __future__ import annotations

from referrals.tasks import referral_lead_stage_changed


def on_lead_stage_changed(sender, *, organization_id: int, lead_id: int, **kwargs) -> None:
    """Runs after the stage move committed; a task follows the lead when it is referred."""
    referral_lead_stage_changed.delay(organization_id=organization_id, lead_id=lead_id)
