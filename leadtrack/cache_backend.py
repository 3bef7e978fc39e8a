"""Django's Redis cache, keeping one client per connection pool.

Django's RedisCacheClient builds a new ``redis.Redis`` for every cache call, and each one copies
redis-py's ~170 response callbacks: about a tenth of a millisecond per call, and an API request
makes one to four of them (its key, the rules and settings it reads). The client holds no state
of its own besides its pool, so one per pool is kept; redis-py's pools start afresh after a fork
(gunicorn and Celery workers).
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as _RedisCache
from django.core.cache.backends.redis import RedisCacheClient as _RedisCacheClient


class RedisCacheClient(_RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(_RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
