"""Cache entries kept in step with the rows they were read from: read through, forget on change.

Every entry also has a TTL, which bounds what a change that sends no signal (a queryset
``update()``) can leave showing.

Inside a request (``LocalCacheMiddleware``), entries are kept in this process too. An API create
reads four of them (its key, the routing rules, the derivation rules, the webhook
subscriptions): one Redis round trip each until 2026-11-27. Whether a kept entry is still
current is decided by one token, the generation, read from Redis once per request: ``forget``
replaces it, so after any change every process reads from Redis again on its next request, as
promptly as before. A kept entry ends when its Redis entry does (its expiry is stored with it),
so the TTL's bound holds too. Kept entries are pickled, as in Redis: each read gets its own
copy, which a caller may change.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar
from uuid import uuid4

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

# Entries are stored as (expiry, value); version 2 keeps them apart from the bare values of
# before, which a process still running the previous code may read or write during a deploy.
ENTRY_VERSION = 2
GENERATION_KEY = "caching:generation"
# Every entry read through is a small row set of one organization (its key, rules, settings):
# a bound on their number is a bound on the memory they take.
LOCAL_MAX_ENTRIES = 1_000


class _Scope:
    """The generation read in one request, once it has been needed."""

    generation: str | None = None


_scope: ContextVar[_Scope | None] = ContextVar("caching_scope", default=None)
# key → (generation, monotonic expiry, pickled value)
_kept: dict[str, tuple[str, float, bytes]] = {}


@contextmanager
def local_scope() -> Iterator[None]:
    """Keep entries in this process while inside, checked against one read of the generation."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


class LocalCacheMiddleware:
    """Every request is one ``local_scope``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with local_scope():
            return self.get_response(request)


def token(key: str) -> str:
    """The random token under ``key`` (a state's name, kept without expiry), named now when there
    is none: on first use, or after the cache was emptied."""
    found = cache.get(key)
    if found is None:
        found = uuid4().hex
        if not cache.add(key, found, None):  # another process named it first
            found = cache.get(key) or found
    return found


def token_replace(key: str) -> str:
    """A new token under ``key``: random, not a count, as a count lost with its key would repeat."""
    new = uuid4().hex
    cache.set(key, new, None)
    return new


def _generation(scope: _Scope) -> str:
    if scope.generation is None:
        scope.generation = token(GENERATION_KEY)
    return scope.generation


def _read_shared(key: str, ttl_seconds: int, read: Callable[[], T]) -> tuple[float, T]:
    """(wall-clock expiry, value) from Redis, or ``read()`` kept there for ``ttl_seconds``."""
    found = cache.get(key, version=ENTRY_VERSION)
    if found is None:
        found = (time.time() + ttl_seconds, read())
        cache.set(key, found, ttl_seconds, version=ENTRY_VERSION)
    return found


def read_through(key: str, ttl_seconds: int, read: Callable[[], T]) -> T:
    """The cached value under ``key``, or ``read()`` kept for ``ttl_seconds`` (None included)."""
    scope = _scope.get()
    if scope is None:
        return _read_shared(key, ttl_seconds, read)[1]
    generation = _generation(scope)
    kept = _kept.get(key)
    now = time.monotonic()
    if kept is not None and kept[0] == generation and kept[1] > now:
        return pickle.loads(kept[2])  # noqa: S301 - written by this process, below
    expires_at, value = _read_shared(key, ttl_seconds, read)
    if len(_kept) >= LOCAL_MAX_ENTRIES:
        _kept.clear()
    _kept[key] = (generation, now + (expires_at - time.time()), pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    return value


def shared_value(key: str) -> object | None:
    """The value Redis holds under ``key`` for ``read_through``, or None when it holds none."""
    found = cache.get(key, version=ENTRY_VERSION)
    return None if found is None else found[1]


def now_and_on_commit(action: Callable[[], None]) -> None:
    """Run ``action`` now and again once the change commits: a reader in between may have
    cached the rows the change is replacing."""
    action()
    transaction.on_commit(action)


def _forget_now(keys: tuple[str, ...]) -> None:
    cache.delete_many(keys, version=ENTRY_VERSION)
    generation = token_replace(GENERATION_KEY)
    for key in keys:
        _kept.pop(key, None)
    scope = _scope.get()
    if scope is not None:
        scope.generation = generation


def forget(*keys: str) -> None:
    """Forget the entries, in Redis and in every process, now and again once the change commits."""
    now_and_on_commit(lambda: _forget_now(keys))
