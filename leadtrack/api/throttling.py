"""Rate limits per API key (or person) and per organization, counted atomically in Redis.

DRF's own throttles read and write the cache in two steps, so concurrent requests
can all pass (encode/django-rest-framework#8127). Here one Lua script increments
both fixed-window counters in a single Redis call; a request over either limit
gets 429 with ``Retry-After`` (the seconds left in the window). Every response
carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` for
the key's own limit. Limits: settings.API_RATE_LIMITS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.commands.core import Script
from rest_framework.throttling import BaseThrottle

from leadtrack.api.authentication import ApiAccess
from leadtrack.redis_clients import shared_redis

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}

# KEYS: counters; ARGV: their window lengths in seconds. Returns the new counts.
_INCREMENT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  counts[i] = n
end
return counts
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" → (600, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip().lower()]


_scripts: dict[redis.Redis, Script] = {}


def _script() -> Script:
    # Kept per client (shared_redis is one per process and address); it runs by its SHA and
    # loads itself again if the server forgot it.
    client = shared_redis()
    script = _scripts.get(client)
    if script is None:
        script = _scripts[client] = client.register_script(_INCREMENT)
    return script


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.remaining, 0)),
            "RateLimit-Reset": str(self.reset),
        }


class ApiRateThrottle(BaseThrottle):
    def __init__(self):
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        access = request.auth
        if not isinstance(access, ApiAccess):
            return True
        now = time.time()
        limits = [
            (f"key:{access.principal_id}", *parse_rate(settings.API_RATE_LIMITS["key"])),
            (f"org:{access.organization.pk}", *parse_rate(settings.API_RATE_LIMITS["organization"])),
        ]
        keys, windows = [], []
        for name, _, window in limits:
            keys.append(
                f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:ratelimit:{name}:{int(now // window)}"
            )
            windows.append(window)
        counts = _script()(keys=keys, args=windows)
        resets = [math.ceil((now // window + 1) * window - now) for window in windows]
        key_limit = limits[0][1]
        request._request.rate_limit = RateState(key_limit, key_limit - counts[0], resets[0])
        over = [
            reset for (_, limit, _), count, reset in zip(limits, counts, resets, strict=True) if count > limit
        ]
        if over:
            self._wait = max(over)
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
