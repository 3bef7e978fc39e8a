"""Nightly snapshots: idempotent, all-or-nothing, equal to the live numbers; the hourly fan-out."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from leadtrack.tenancy.context import tenant_context
from reports.models import MetricSnapshot, SnapshotRun
from reports.selectors import metric_values, snapshot_slices
from reports.services import snapshot_recompute
from reports.tasks import organizations_at_local_hour, snapshot_recompute_task


def snapshot_hash(org) -> tuple[int, str]:
    with tenant_context(org):
        rows = MetricSnapshot.objects.order_by(
            "grain", "dimension", "dimension_value", "period_start"
        ).values_list(
            "grain",
            "period_start",
            "period_end",
            "dimension",
            "dimension_value",
            "measures",
        )
        text = "\n".join(repr(row) for row in rows)
    return len(rows), hashlib.sha256(text.encode()).hexdigest()


def test_recomputing_twice_gives_identical_rows(funnel):
    snapshot_recompute_task.apply(kwargs={"organization_id": funnel.org.pk}).get()
    first = snapshot_hash(funnel.org)
    snapshot_recompute_task.apply(kwargs={"organization_id": funnel.org.pk}).get()
    assert snapshot_hash(funnel.org) == first
    assert first[0] > 0
    with tenant_context(funnel.org):
        runs = list(SnapshotRun.objects.values_list("status", "trigger"))
        assert runs == [("done", "nightly"), ("done", "nightly")]
        assert all(run.duration_ms is not None for run in SnapshotRun.objects.all())


def test_a_run_killed_after_half_of_its_writes_leaves_the_old_snapshot(funnel):
    with tenant_context(funnel.org):
        snapshot_recompute(org=funnel.org)
    before = snapshot_hash(funnel.org)
    # New data the killed run would have written.
    from tests.factories import make_lead

    make_lead(funnel.org, company="Late arrival")

    def kill_at_half(done: int, total: int) -> None:
        if done >= total // 2 + 1:
            raise SystemExit("worker killed")

    with tenant_context(funnel.org), pytest.raises(SystemExit):
        snapshot_recompute(org=funnel.org, on_step=kill_at_half)
    assert snapshot_hash(funnel.org) == before


def test_snapshot_numbers_equal_the_live_numbers(funnel):
    with tenant_context(funnel.org):
        snapshot_recompute(org=funnel.org)
        metrics = ("leads", "mqls", "lead_to_mql", "mql_to_sql_flow", "won")
        for dimension, grain in (("source", "month"), ("owner", "month"), ("", "month"), ("", "week")):
            stored = snapshot_slices(
                org=funnel.org,
                metrics=metrics,
                grain=grain,
                dimension=dimension,
                date_from=date(2025, 3, 1),
                date_to=date(2025, 7, 31),
            )
            assert stored
            for metric in metrics:
                live = metric_values(
                    org=funnel.org,
                    metric=metric,
                    period=grain,
                    group_by=[dimension] if dimension else [],
                    date_from=date(2025, 3, 1),
                    date_to=date(2025, 7, 31),
                    filters={},
                    from_snapshots=False,  # the live SQL, not the snapshot itself
                )
                compared = 0
                for row in live:
                    if grain == "week" and row["period_start"] != row["period_end"] - timedelta(days=7):
                        continue  # a week clipped by the range is not a whole snapshot week
                    snap = stored.get((row["period_start"], row[dimension] if dimension else ""))
                    if snap is None:  # slices without events are not stored
                        assert row["numerator"] == 0 and not row["denominator"]
                        continue
                    assert snap[metric].numerator == row["numerator"]
                    assert snap[metric].denominator == row["denominator"]
                    assert snap[metric].value == row["value"]
                    compared += 1
                assert compared > 0


def test_the_fan_out_picks_organizations_at_two_in_the_morning(org, other_org):
    org.time_zone = "America/New_York"
    org.save()
    other_org.time_zone = "Europe/Berlin"
    other_org.save()
    # 07:10 UTC on 2025-06-02 = 03:10 New York (EDT), 09:10 Berlin; 06:10 UTC = 02:10 New York.
    assert organizations_at_local_hour(hour=2, now=datetime(2025, 6, 2, 6, 10, tzinfo=UTC)) == [org]
    assert organizations_at_local_hour(hour=2, now=datetime(2025, 6, 2, 0, 10, tzinfo=UTC)) == [other_org]


def test_two_concurrent_recomputes_do_not_double_count(transactional_db, org, mike):
    import threading

    from django.db import connection

    from tests.reports.conftest import build_funnel

    build_funnel(org, mike)
    with tenant_context(org):
        snapshot_recompute(org=org)
    clean = snapshot_hash(org)
    first_holds_lock, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def pause_first(done: int, total: int) -> None:
        if done == 1:  # old rows deleted, new ones not yet written, lock held
            first_holds_lock.set()
            release_first.wait(timeout=30)

    def recompute(hook) -> None:
        try:
            with tenant_context(org):
                snapshot_recompute(org=org, on_step=hook)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=recompute, args=(pause_first,))
    first.start()
    assert first_holds_lock.wait(timeout=30)
    second = threading.Thread(target=recompute, args=(None,))
    second.start()
    # The second recompute waits on the organization's advisory lock (observed, not timed).
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.1)
        else:
            raise AssertionError("the second recompute never waited for the lock")
    release_first.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert errors == []
    assert snapshot_hash(org) == clean


def test_a_run_that_gives_up_is_recorded_as_failed(org):
    # throw=False: as in a worker, the failure handler runs instead of the error propagating.
    result = snapshot_recompute_task.apply(
        kwargs={"organization_id": org.pk, "run_id": 987654, "trigger": "manual"}, throw=False
    )
    assert result.failed()
    with tenant_context(org):
        failed = SnapshotRun.objects.get()
    assert (failed.status, failed.trigger) == ("failed", "manual")
    assert failed.error.startswith("DoesNotExist")
