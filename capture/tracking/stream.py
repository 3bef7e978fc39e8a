"""The Redis stream between the public event endpoint and the drain.

The endpoint appends one entry per accepted event (already validated, IP already
truncated); the drain reads them through a consumer group, writes them to PostgreSQL
in one transaction, and only then acknowledges and deletes them. A drain killed in
between leaves its entries pending: the next drain claims them after ``STALE_MS``
and the unique event id makes the second write a no-op.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from leadtrack.redis_clients import shared_redis

STREAM = "leadtrack:tracking:events"
GROUP = "drain"
# A pending entry idle this long belongs to a drain that died: another may take it.
STALE_MS = 60_000


def client() -> redis.Redis:
    return shared_redis(timeout=5)


def append(events: list[dict[str, Any]]) -> None:
    """One round trip for any number of events (a pipeline of XADDs)."""
    if len(events) == 1:
        client().xadd(STREAM, {"e": json.dumps(events[0], separators=(",", ":"))})
        return
    pipe = client().pipeline(transaction=False)
    for event in events:
        pipe.xadd(STREAM, {"e": json.dumps(event, separators=(",", ":"))})
    pipe.execute()


def _ensure_group() -> None:
    try:
        client().xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_batch(*, consumer: str, count: int) -> list[tuple[str, dict[str, Any] | None]]:
    """Up to ``count`` entries: first those a dead drain left pending, then new ones.
    Each is (entry id, event) with event None when the entry cannot be parsed."""
    _ensure_group()
    entries: list = []
    claimed = client().xautoclaim(
        STREAM, GROUP, consumer, min_idle_time=STALE_MS, start_id="0-0", count=count
    )
    entries += [entry for entry in claimed[1] if entry and entry[1]]
    if len(entries) < count:
        for _stream, found in (
            client().xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count - len(entries)) or []
        ):
            entries += found
    batch = []
    for entry_id, fields in entries:
        raw = fields.get(b"e")
        try:
            event = json.loads(raw) if raw is not None else None
        except ValueError:
            event = None
        batch.append((entry_id.decode() if isinstance(entry_id, bytes) else entry_id, event))
    return batch


def acknowledge(entry_ids: list[str]) -> None:
    if not entry_ids:
        return
    pipe = client().pipeline(transaction=True)
    pipe.xack(STREAM, GROUP, *entry_ids)
    pipe.xdel(STREAM, *entry_ids)
    pipe.execute()


def length() -> int:
    return client().xlen(STREAM)


def raw_entries() -> list[bytes]:
    """Every stored entry's payload as stored (tests check that no full IP is in them)."""
    return [fields[b"e"] for _id, fields in client().xrange(STREAM)]


def clear() -> None:
    client().delete(STREAM)
