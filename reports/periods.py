"""Periods of the organization's calendar: half-open [start, end) local days, weeks, months, quarters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reports.models import Grain

CUSTOM = "custom"
PERIODS = (Grain.DAY.value, Grain.WEEK.value, Grain.MONTH.value, Grain.QUARTER.value, CUSTOM)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def period_floor(day: date, grain: str) -> date:
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:  # ISO week: Monday
        return day - timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    if grain == Grain.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    raise ValueError(f"unknown grain {grain}")


def period_next(start: date, grain: str) -> date:
    if grain == Grain.DAY:
        return start + timedelta(days=1)
    if grain == Grain.WEEK:
        return start + timedelta(days=7)
    months = 1 if grain == Grain.MONTH else 3
    month_index = start.month - 1 + months
    return date(start.year + month_index // 12, month_index % 12 + 1, 1)


def period_previous(start: date, grain: str) -> date:
    if grain == Grain.DAY:
        return start - timedelta(days=1)
    if grain == Grain.WEEK:
        return start - timedelta(days=7)
    return period_floor(start - timedelta(days=1), grain)


def period_starts(start: date, end: date, grain: str) -> list[date]:
    """The starts of the periods of ``grain`` that intersect [start, end)."""
    starts, current = [], period_floor(start, grain)
    while current < end:
        starts.append(current)
        current = period_next(current, grain)
    return starts


def quarter_of(day: date) -> tuple[date, date]:
    """[first day, last day] of the quarter containing ``day``."""
    start = period_floor(day, Grain.QUARTER)
    return start, period_next(start, Grain.QUARTER) - timedelta(days=1)
