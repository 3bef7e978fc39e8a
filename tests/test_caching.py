"""leadtrack/caching.py: entries kept in process within a request, current by one generation."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from leadtrack import caching

KEY = "tests:caching:entry"


class Reads:
    """``read()`` for read_through: returns the next value given, counting its calls."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.values.pop(0)


def _in_request(read, ttl_seconds: int = 60):
    with caching.local_scope():
        return caching.read_through(KEY, ttl_seconds, read)


def _change_redis_behind_its_back(value) -> None:
    cache.set(KEY, (time.time() + 60, value), 60, version=caching.ENTRY_VERSION)


@pytest.fixture(autouse=True)
def _nothing_kept():
    caching._kept.clear()
    yield
    caching._kept.clear()


def test_a_request_serves_an_entry_kept_by_an_earlier_one_without_reading_redis_for_it(db):
    read = Reads("first")
    assert _in_request(read) == "first"
    _change_redis_behind_its_back("changed in redis")
    assert _in_request(read) == "first"  # kept here: Redis was asked only for the generation
    assert read.calls == 1
    with caching.local_scope():
        caching.forget(KEY)
        assert caching.read_through(KEY, 60, Reads("read again")) == "read again"


def test_outside_a_request_every_read_goes_to_redis(db):
    assert caching.read_through(KEY, 60, Reads("first")) == "first"
    _change_redis_behind_its_back("changed in redis")
    assert caching.read_through(KEY, 60, Reads("unused")) == "changed in redis"


def test_a_forget_in_another_process_is_seen_by_the_next_request_here(db):
    read = Reads("old rows", "new rows")
    assert _in_request(read) == "old rows"
    kept_here = dict(caching._kept)
    caching.forget(KEY)  # as another process does it: Redis forgets, the generation is replaced...
    caching._kept.update(kept_here)  # ...and this process still keeps what it read
    assert _in_request(read) == "new rows"
    assert read.calls == 2


def test_an_emptied_cache_names_a_new_generation(db):
    read = Reads("before", "after")
    assert _in_request(read) == "before"
    cache.clear()  # the generation goes too: what this process keeps is not current any more
    assert _in_request(read) == "after"


def test_a_kept_entry_ends_when_its_redis_entry_does(db):
    read = Reads("first", "second")
    assert _in_request(read, ttl_seconds=1) == "first"
    time.sleep(1.2)
    assert _in_request(read, ttl_seconds=1) == "second"


def test_each_read_gets_its_own_copy_and_none_is_kept_too(db):
    first = _in_request(Reads({"rules": ["a"]}))
    first["rules"].append("changed by a caller")
    assert _in_request(Reads("unused")) == {"rules": ["a"]}
    caching.forget(KEY)
    missing = Reads(None)
    assert _in_request(missing) is None
    assert _in_request(missing) is None
    assert missing.calls == 1
    assert caching.shared_value(KEY) is None
