"""Display helpers for referral pages."""

from __future__ import annotations

from django import template

from referrals.models import ReferralStatus, RewardStatus

register = template.Library()


@register.filter
def percent(rate: float | None) -> str:
    """0.256 → "25.6%"; a rate with a zero denominator (None) → "—" (docs/metrics.md)."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"


@register.filter
def days(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} days"


@register.filter
def referral_status(value: str) -> str:
    """The label a referrer sees for a status value ("under_review" → "Under review")."""
    return ReferralStatus(value).label if value in ReferralStatus.values else value


@register.filter
def reward_status(value: str) -> str:
    return RewardStatus(value).label if value in RewardStatus.values else value
