"""Who is asking, in which request: one ContextVar read by the JSON log formatter and the audit trail.

The organization is not kept here: ``tenancy.context`` already holds it, and a second copy
could disagree with the one the database enforces.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed in our logs and headers: short and plain, or we make our own.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


@dataclass
class RequestContext:
    request_id: str
    user_id: int | None = None
    api_key_id: int | None = None


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str:
    """The incoming id when it is 8 to 64 characters of [A-Za-z0-9-], else a fresh one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx else ""


def bind(*, user_id: int | None = None, api_key_id: int | None = None) -> None:
    """Record the principal once authentication knows it (no-op outside a request or task)."""
    ctx = _current.get()
    if ctx is None:
        return
    if user_id is not None:
        ctx.user_id = user_id
    if api_key_id is not None:
        ctx.api_key_id = api_key_id


@contextlib.contextmanager
def request_scope(request_id: str) -> Iterator[RequestContext]:
    ctx = RequestContext(request_id=request_id)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
