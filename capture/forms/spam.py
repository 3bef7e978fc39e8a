"""Spam rules of the public form endpoint: rate limits, the signed render stamp, IP truncation.

Rate limits are fixed-window counters in Redis, both incremented in one Lua call
(as leadtrack/api/throttling.py does for the API, and for the same reason: two
round trips let concurrent requests all pass). Durability comes first: when Redis
does not answer, the post is accepted (the submission is stored in PostgreSQL
either way), so a Redis outage never loses a lead.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.core import signing

from leadtrack.api.throttling import parse_rate
from leadtrack.redis_clients import redis_client

logger = logging.getLogger(__name__)

RENDER_SALT = "webforms.render"

_INCREMENT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  counts[i] = n
end
return counts
"""


@cache
def _script(url: str):
    # Short timeouts: a Redis that hangs must not hold a visitor's post (it is accepted anyway).
    return redis_client(url, timeout=0.25).register_script(_INCREMENT)


@dataclass(frozen=True)
class RateVerdict:
    wait: int | None  # seconds to wait when over a limit, else None
    redis_answered: bool


def rate_limit_check(*, form_id: int, ip: str, now: float | None = None) -> RateVerdict:
    """Count this post against the per-IP and the per-form limit.

    Limits: settings.WEBFORMS_RATE_LIMITS ("ip", "form"). Redis down → accepted, and
    ``redis_answered`` is False (the caller then skips the broker, which is the same Redis
    by default and would only make the visitor wait for its connection retries).
    """
    now = time.time() if now is None else now
    limits = [
        (f"ip:{ip}", *parse_rate(settings.WEBFORMS_RATE_LIMITS["ip"])),
        (f"form:{form_id}", *parse_rate(settings.WEBFORMS_RATE_LIMITS["form"])),
    ]
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = [f"{prefix}:webforms:ratelimit:{name}:{int(now // window)}" for name, _, window in limits]
    windows = [window for _, _, window in limits]
    try:
        counts = _script(settings.REDIS_URL)(keys=keys, args=windows)
    except redis.RedisError as exc:
        logger.warning("form rate limits skipped, Redis unavailable: %s", exc)
        return RateVerdict(wait=None, redis_answered=False)
    waits = [
        int((now // window + 1) * window - now) + 1
        for (_, limit, window), count in zip(limits, counts, strict=True)
        if count > limit
    ]
    return RateVerdict(wait=max(waits) if waits else None, redis_answered=True)


def render_stamp(*, form_id: int, embed: str, now: float | None = None) -> str:
    """A signed note of when (and how) we rendered the form; posted back in ``lt_ts``."""
    return signing.dumps(
        {"f": form_id, "t": int(time.time() if now is None else now), "e": embed}, salt=RENDER_SALT
    )


def read_render_stamp(*, stamp: str, form_id: int) -> dict | None:
    """The stamp's content when it is ours and for this form, else None (forged or foreign)."""
    try:
        value = signing.loads(stamp, salt=RENDER_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("f") != form_id or not isinstance(value.get("t"), int):
        return None
    return value


def truncate_ip(ip: str) -> str | None:
    """IPv4 → its /24 network address, IPv6 → its /48 (stored instead of the address)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
