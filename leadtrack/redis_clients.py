"""One Redis client per process and address, for the code that talks to Redis directly (rate limits,
the tracking stream, the scoring queue); Django's cache and Celery keep their own.

A client holds a connection pool: making one per call opened a new TCP connection on every request
or lead write. redis-py's pool starts afresh in a forked child (gunicorn and Celery workers), so a
client made before a fork is safe to keep.
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client(url: str, *, timeout: float | None = None) -> redis.Redis:
    """The process's client for ``url``; ``timeout`` (seconds) bounds connecting and each command."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def shared_redis(*, timeout: float | None = None) -> redis.Redis:
    """The process's client for settings.REDIS_URL (read on each call, so tests may point it elsewhere)."""
    return redis_client(settings.REDIS_URL, timeout=timeout)
