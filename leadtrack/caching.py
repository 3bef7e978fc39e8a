"""Cache entries kept in step with the rows they were read from: read through, forget on change.

Every entry also has a TTL, which bounds what a change that sends no signal (a queryset
``update()``) can leave showing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


def read_through(key: str, ttl_seconds: int, read: Callable[[], T]) -> T:
    """The cached value under ``key``, or ``read()`` kept there for ``ttl_seconds``."""
    found = cache.get(key)
    if found is None:
        found = read()
        cache.set(key, found, ttl_seconds)
    return found


def now_and_on_commit(action: Callable[[], None]) -> None:
    """Run ``action`` now and again once the change commits: a reader in between may have
    cached the rows the change is replacing."""
    action()
    transaction.on_commit(action)


def forget(*keys: str) -> None:
    """Forget the entries now and again once the change commits."""
    now_and_on_commit(lambda: cache.delete_many(keys))
