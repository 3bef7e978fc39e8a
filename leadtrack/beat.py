"""Celery beat that publishes only while it holds a leader lock in Redis.

Celery's own docs: "ensure only a single scheduler is running for a schedule at a time,
otherwise you would end up with duplicate tasks". A second beat (a deploy that starts the
new one before stopping the old, two replicas, a ``make run`` beside a container) would
send every periodic task twice. The guard lives in the scheduler, not in each task: the
periodic tasks are many, and a per-task lock would need a tick identity that two beats
agree on, which interval schedules (counted from each beat's start) do not give.

Every beat runs the same schedule and advances its entries at each due time; only the one
holding ``settings.BEAT_LEADER_KEY`` (SET NX with a TTL, renewed at every tick) sends them.
A standby takes over when the lock expires (leader crashed: the ticks due in that window,
at most ``BEAT_LEADER_TTL_SECONDS``, are skipped, which every periodic task tolerates since
each is an idempotent sweep or fan-out that the next tick repeats) or at once when the
leader stops cleanly (it deletes the lock on shutdown). Because standbys advance their
schedules, a takeover sends no burst of catch-up runs. Same idea as celery-redbeat's lock,
without moving the schedule into Redis.
"""

from __future__ import annotations

import logging
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

# Renew if we hold the lock, else take it if free: one atomic step, so two beats never both lead.
_CLAIM = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderScheduler(PersistentScheduler):
    """PersistentScheduler whose sends happen only on the beat holding the leader lock."""

    def __init__(self, *args, **kwargs) -> None:
        self.leader_key: str = settings.BEAT_LEADER_KEY
        self.leader_ttl: float = float(settings.BEAT_LEADER_TTL_SECONDS)
        self.token = uuid.uuid4().hex
        self.is_leader = False
        self._redis = redis.Redis.from_url(settings.REDIS_URL)
        super().__init__(*args, **kwargs)

    def claim_leadership(self) -> bool:
        was_leader = self.is_leader
        try:
            claimed = self._redis.eval(_CLAIM, 1, self.leader_key, self.token, int(self.leader_ttl * 1000))
        except redis.RedisError:
            # Unreachable Redis: no broker either, so nothing could be sent; do not lead blindly.
            logger.exception("beat: leader lock unreachable, not sending")
            claimed = 0
        self.is_leader = bool(claimed)
        if self.is_leader != was_leader:
            logger.info("beat: %s", "leader, sending periodic tasks" if self.is_leader else "standby")
        return self.is_leader

    def tick(self, *args, **kwargs) -> float:
        self.claim_leadership()
        delay = super().tick(*args, **kwargs)
        # Wake often enough to renew the lock before it expires (leader) or to notice it
        # has (standby), whatever the next due time is.
        return min(delay, self.leader_ttl / 3)

    def apply_entry(self, entry, producer=None) -> None:
        if self.is_leader:
            super().apply_entry(entry, producer=producer)
        else:
            logger.info("Scheduler: standby, not sending %s (another beat leads)", entry.name)

    def close(self) -> None:
        if self.is_leader:
            try:
                self._redis.eval(_RELEASE, 1, self.leader_key, self.token)
            except redis.RedisError:
                logger.exception("beat: could not release the leader lock (it expires by itself)")
            self.is_leader = False
        super().close()
