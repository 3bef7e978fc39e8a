"""Working-time arithmetic of the first-contact SLA: pure functions, no database."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from zoneinfo import ZoneInfo

# Working days are datetime.weekday() numbers; a policy may list none only by mistake (the form refuses).
MAX_DAYS_SEARCHED = 370


def add_working_minutes(
    *,
    start: datetime.datetime,
    minutes: int,
    tz: ZoneInfo,
    workday_start: datetime.time,
    workday_end: datetime.time,
    working_days: Collection[int],
) -> datetime.datetime:
    """The moment ``minutes`` of working time after ``start``.

    Working time is ``workday_start`` to ``workday_end`` local time on ``working_days``; the clock
    stops at night and on other days, so a lead that arrives on Friday at 16:30 with a 60-minute
    SLA is due on Monday at 09:30, and one that arrives on Saturday is due on Monday at 10:00.
    """
    if not working_days:
        raise ValueError("A policy needs at least one working day")
    local = start.astimezone(tz)
    day = local.date()
    remaining = datetime.timedelta(minutes=minutes)
    for _ in range(MAX_DAYS_SEARCHED):
        if day.weekday() in working_days:
            opens = datetime.datetime.combine(day, workday_start, tzinfo=tz)
            closes = datetime.datetime.combine(day, workday_end, tzinfo=tz)
            begin = max(opens, local)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(datetime.UTC)
                remaining -= available
        day += datetime.timedelta(days=1)
        local = datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=tz)
    raise ValueError("No working time found within a year")
