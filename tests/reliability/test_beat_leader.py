"""The beat leader lock (leadtrack/beat.py) against the real Redis: one leader at a time,
handed over at once when the leader stops cleanly. Two real beats: test_worker_faults.py D10."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings
from django.test.utils import override_settings

from leadtrack.beat import LeaderScheduler
from leadtrack.celery import app


@pytest.fixture
def leader_key():
    key = f"lt-test-beat-leader-{uuid.uuid4().hex[:12]}"
    with override_settings(BEAT_LEADER_KEY=key):
        yield key
    redis.Redis.from_url(settings.REDIS_URL).delete(key)


@pytest.fixture
def scheduler(tmp_path, leader_key):
    """Schedulers with files of their own, closed (lock released, shelve synced) in teardown."""
    made: list[LeaderScheduler] = []

    def make(name: str) -> LeaderScheduler:
        made.append(LeaderScheduler(app=app, schedule_filename=str(tmp_path / name)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_it_lets_one_beat_lead_and_hands_over_when_it_stops(scheduler, leader_key):
    first, second = scheduler("one"), scheduler("two")
    assert first.claim_leadership() is True
    assert second.claim_leadership() is False
    assert first.claim_leadership() is True  # renewal by the holder
    ttl_ms = redis.Redis.from_url(settings.REDIS_URL).pttl(leader_key)
    assert 0 < ttl_ms <= settings.BEAT_LEADER_TTL_SECONDS * 1000
    first.close()
    assert second.claim_leadership() is True


def test_a_standby_sends_nothing(scheduler):
    leader, standby = scheduler("one"), scheduler("two")
    leader.claim_leadership()
    standby.claim_leadership()
    sent = []
    standby.apply_async = lambda entry, **kwargs: sent.append(entry)
    standby.apply_entry(standby.schedule["routing-sla-process"])
    assert sent == []
    leader.apply_async = lambda entry, **kwargs: sent.append(entry.name)
    leader.apply_entry(leader.schedule["routing-sla-process"])
    assert sent == ["routing-sla-process"]
