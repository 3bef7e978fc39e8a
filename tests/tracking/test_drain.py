"""The drain: batches from the stream into page views, one INSERT, idempotent, visits assigned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from capture.tracking import services, stream
from capture.tracking.models import PageView
from capture.tracking.selectors import SiteInfo
from leadtrack.tenancy.context import tenant_context
from tests.tracking.conftest import event, make_site

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def info(site) -> SiteInfo:
    return SiteInfo(site.pk, site.organization_id, site.key, tuple(site.allowed_domains), True, False)


def accept(site, *events, at: datetime) -> None:
    services.events_accept(site=info(site), events=list(events), ip="192.0.2.1", now=at)


def test_it_inserts_a_batch_in_one_statement(site, org, drain):
    for n in range(25):
        accept(site, event(visitor_id=f"visitor-{n % 5:04d}", url=f"https://acme.example/p{n}"), at=T0)
    with CaptureQueriesContext(connection) as queries:
        assert drain() == 25
    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith("INSERT INTO tracking_pageview")
    ]
    assert len(inserts) == 1
    with tenant_context(org):
        assert PageView.objects.count() == 25
    assert stream.length() == 0


def test_redelivered_events_are_stored_once(site, org, drain):
    events = [event(visitor_id="visitor-0001", url=f"https://acme.example/{n}") for n in range(3)]
    accept(site, *events, at=T0)
    assert drain() == 3
    accept(site, *events, at=T0)  # the same event ids again (a retry, a redelivery)
    drain()
    with tenant_context(org):
        assert PageView.objects.count() == 3


def test_a_drain_killed_before_commit_leaves_its_batch_for_the_next(site, org, drain, monkeypatch):
    accept(site, event(), event(), at=T0)
    # A drain that read the batch and died: its entries stay pending in the group, nothing written.
    dead = stream.read_batch(consumer="dead-drain", count=10)
    assert len(dead) == 2
    with tenant_context(org):
        assert PageView.objects.count() == 0
    assert drain() == 0  # not stale yet: another drain does not steal a live one's entries
    monkeypatch.setattr(stream, "STALE_MS", 0)
    assert drain() == 2
    with tenant_context(org):
        assert PageView.objects.count() == 2
    assert stream.length() == 0


def test_unparseable_entries_and_deleted_sites_are_dropped(site, org, drain):
    stream.client().xadd(stream.STREAM, {"e": b"{not json"})
    gone = make_site(org, name="Gone")
    accept(gone, event(), at=T0)
    with tenant_context(org):
        gone.delete()
    accept(site, event(), at=T0)
    assert drain() == 1
    assert stream.length() == 0


def test_each_organization_is_written_under_its_own_tenant(site, other_site, org, other_org, drain):
    accept(site, event(visitor_id="visitor-acme"), at=T0)
    accept(other_site, event(visitor_id="visitor-globex", url="https://globex.example/"), at=T0)
    assert drain() == 2
    with tenant_context(org):
        assert list(PageView.objects.values_list("visitor_id", flat=True)) == ["visitor-acme"]
    with tenant_context(other_org):
        assert list(PageView.objects.values_list("visitor_id", flat=True)) == ["visitor-globex"]


def test_visits_split_after_30_minutes_or_on_a_new_campaign(site, org, drain):
    vid = "visitor-0001"
    accept(site, event(vid, "https://acme.example/a", utm_source="partner", utm_campaign="cert"), at=T0)
    accept(
        site,
        event(vid, "https://acme.example/b", utm_source="partner", utm_campaign="cert"),
        at=T0 + timedelta(minutes=29),
    )
    drain()  # the next page view is compared with the stored one
    accept(
        site,
        event(vid, "https://acme.example/c", utm_source="partner", utm_campaign="cert"),
        at=T0 + timedelta(minutes=58),
    )
    accept(site, event(vid, "https://acme.example/d"), at=T0 + timedelta(minutes=90))  # 32 min later
    accept(
        site,
        event(vid, "https://acme.example/e", utm_source="news", utm_campaign="may"),
        at=T0 + timedelta(minutes=91),
    )
    drain()
    with tenant_context(org):
        views = list(
            PageView.objects.order_by("occurred_at").values(
                "path", "visit_id", "is_landing", "is_new_visitor"
            )
        )
    visits = [v["visit_id"] for v in views]
    assert visits[0] == visits[1] == visits[2]
    assert len(set(visits)) == 3
    assert [v["is_landing"] for v in views] == [True, False, False, True, True]
    assert [v["is_new_visitor"] for v in views] == [True, True, True, False, False]


def test_an_empty_stream_drains_nothing(db, drain):
    assert drain() == 0


def test_the_beat_task_drains_and_is_registered(site, org, django_capture_on_commit_callbacks):
    from capture.tracking.tasks import page_views_drain_task
    from leadtrack.celery import app

    assert "tracking.page_views_drain" in app.tasks
    accept(site, event(), event(), at=T0)
    with django_capture_on_commit_callbacks(execute=True):
        assert page_views_drain_task.delay().get() == 2
    assert stream.length() == 0
