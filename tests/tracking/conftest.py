"""Tracking fixtures: a site per organization, an empty stream and site cache per test,
and helpers to post events to the public endpoint and drain them."""

from __future__ import annotations

import json
import uuid

import pytest

from capture.tracking import services, stream
from capture.tracking.selectors import site_cache_forget
from leadtrack.tenancy.context import tenant_context


@pytest.fixture(autouse=True)
def _empty_stream(db):
    stream.clear()
    site_cache_forget()
    yield
    stream.clear()
    site_cache_forget()


def make_site(org, **kwargs):
    with tenant_context(org):
        return services.site_create(org=org, actor=None, name=kwargs.pop("name", "Website"), **kwargs)


@pytest.fixture
def site(org):
    return make_site(org, allowed_domains=["acme.example"])


@pytest.fixture
def other_site(other_org):
    return make_site(other_org, name="Globex site")


def event(visitor_id: str = "visitor-0001", url: str = "https://acme.example/", **fields) -> dict:
    return {"event_id": uuid.uuid4().hex, "visitor_id": visitor_id, "url": url, **fields}


@pytest.fixture
def post_event(client):
    """POST one event (or a raw body) to /t/<key>/e as sendBeacon does: text/plain JSON."""

    def _post(site, payload, *, ip: str = "203.0.113.77", **extra):
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        return client.generic(
            "POST", f"/t/{site.key}/e", body, content_type="text/plain;charset=UTF-8", REMOTE_ADDR=ip, **extra
        )

    return _post


@pytest.fixture
def drain(django_capture_on_commit_callbacks):
    """Drain the stream as the beat task does, running the after-commit acknowledgement."""

    def _drain() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.page_views_drain()

    return _drain
