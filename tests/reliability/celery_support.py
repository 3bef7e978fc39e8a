"""What the worker and beat subprocesses of tests/reliability/test_worker_faults.py load.

``python -m tests.reliability.celery_launch worker|beat …`` imports this module, so the
probe task and the finite schedule below are registered (and unpickled from the beat's
schedule file) under a stable module path.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import redis
from celery.schedules import schedstate, schedule
from django.conf import settings

from leadtrack.celery import app


@app.task(name="tests.reliability.beat_probe")
def beat_probe(*, key: str) -> None:
    """One execution of a beat-fired task: recorded in Redis, where the test counts them."""
    redis.Redis.from_url(settings.REDIS_URL).rpush(key, f"{time.time():.3f}")


class finite_ticks(schedule):
    """Due at ``count`` wall-clock instants ``start + i * every`` (i = 0…count-1), never after.

    Two beats given the same ``start`` share the same ticks, so a test can say "3 ticks"
    whatever the moment it stops them.
    """

    def __init__(self, *, start: float, every: float, count: int, app=None) -> None:
        super().__init__(run_every=timedelta(seconds=every), app=app)
        self.start, self.every, self.count = start, every, count

    def __reduce__(self):
        return _finite_ticks, (self.start, self.every, self.count)

    def is_due(self, last_run_at: datetime) -> schedstate:
        now = time.time()
        last = last_run_at.timestamp()
        ticks = [self.start + i * self.every for i in range(self.count)]
        pending = [tick for tick in ticks if tick > last]
        if not pending:
            return schedstate(False, 3600.0)
        if pending[0] <= now:
            later = [tick for tick in pending if tick > now]
            return schedstate(True, later[0] - now if later else 3600.0)
        return schedstate(False, pending[0] - now)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        return timedelta(seconds=self.is_due(last_run_at).next)

    def now(self) -> datetime:
        return datetime.now(UTC)


def _finite_ticks(start: float, every: float, count: int) -> finite_ticks:
    return finite_ticks(start=start, every=every, count=count)
