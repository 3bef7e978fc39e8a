"""Funnel totals as of now: history from the nightly snapshot, plus what counted since it, live.

The fixture is tests/reports/conftest.py's Q2 2025 funnel (Acme, New York). Its leads created
in Q2 (flow "leads"): L1, L2, L3, L4, L5, L6, L9 = 7; of those, won as of the snapshot: L1, L5.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from funnel.services import stage_move
from leads.services import lead_create
from leadtrack.tenancy.context import tenant_context
from reports.models import MetricSnapshot
from reports.selectors import metric_table, metric_values
from reports.services import snapshot_recompute
from reports.views import STAGE_ROWS
from tests.reports.conftest import Q2_FROM, Q2_TO

FUNNEL_PAGE_METRICS = [count for _, count, _, _ in STAGE_ROWS] + [
    name for _, _, rate, _ in STAGE_ROWS if rate for name in (rate, f"{rate}_flow")
]


def value(org, metric, *, from_snapshots=True, filters=None, date_from=Q2_FROM, date_to=Q2_TO, group_by=()):
    rows = metric_values(
        org=org,
        metric=metric,
        period="custom",
        group_by=list(group_by),
        date_from=date_from,
        date_to=date_to,
        filters=filters or {},
        from_snapshots=from_snapshots,
    )
    return rows[0]["numerator"] if rows else None


def tamper_april_total(org, add: int) -> None:
    """Change the stored April 2025 total: a number that can only come from the snapshot."""
    row = MetricSnapshot.objects.get(
        organization=org, grain="month", dimension="", period_start=date(2025, 4, 1)
    )
    row.measures = {**row.measures, "leads": row.measures["leads"] + add}
    row.save()


def test_history_is_read_from_the_snapshot(funnel):
    org = funnel.org
    with tenant_context(org):
        assert value(org, "leads") == 7  # no snapshot yet: live
        snapshot_recompute(org=org)
        assert value(org, "leads") == 7
        tamper_april_total(org, 100)
        assert value(org, "leads") == 107
        assert value(org, "leads", from_snapshots=False) == 7


def test_snapshot_plus_what_counted_since_equals_live(funnel, mike):
    org = funnel.org
    with tenant_context(org):
        snapshot_recompute(org=org)
        now = timezone.now()
        # After the snapshot: an April lead closes won (cohort of April, flow of this month),
        # a recycled April lead reaches SQL, and a new lead arrives.
        stage_move(org=org, actor=mike, lead_id=funnel.leads["L9"].pk, to_stage="won", at=now, amount=5000)
        stage_move(org=org, actor=mike, lead_id=funnel.leads["L3"].pk, to_stage="sql", at=now)
        lead_create(
            org=org, actor=mike, data={"company": "Arrived today", "source": funnel.web}, created_at=now
        )
        today = timezone.localtime(now, org.tzinfo).date()
        # Q2 cohort: won L1, L5 and now L9 = 3 of 7; reached SQL: L1, L2, L4, L5 and L9 (skips count
        # as reached) and now L3 = 6.
        assert value(org, "lead_conversion") == 3
        assert value(org, "lead_to_sql") == 6
        assert value(org, "won", date_from=today.replace(day=1), date_to=today) == 1
        assert value(org, "leads", date_from=today.replace(day=1), date_to=today) == 1
        for period, date_from, date_to in (
            ("custom", Q2_FROM, Q2_TO),
            ("custom", date(2025, 3, 1), today),
            ("month", date(2025, 3, 15), today),  # a partial first month, computed live
            ("quarter", date(2025, 1, 1), today + timedelta(days=40)),
            ("week", date(2025, 3, 31), today),
        ):
            tables = [
                metric_table(
                    org=org,
                    metrics=[*FUNNEL_PAGE_METRICS, "leads_growth"],
                    period=period,
                    group_by=[],
                    date_from=date_from,
                    date_to=date_to,
                    filters={},
                    from_snapshots=from_snapshots,
                )
                for from_snapshots in (True, False)
            ]
            snapshot_rows, live_rows = ([(r["period_start"], r["values"]) for r in t.rows] for t in tables)
            assert snapshot_rows == live_rows, (period, date_from, date_to)
            assert any(values["won"].numerator for _, values in live_rows)
        tamper_april_total(org, 100)  # and the snapshot was what answered
        assert value(org, "leads") == 107


@pytest.mark.parametrize("case", ["filter", "slice", "time zone", "as of"])
def test_what_the_snapshot_cannot_answer_is_computed_live(funnel, case):
    org = funnel.org
    with tenant_context(org):
        snapshot_recompute(org=org)
        tamper_april_total(org, 100)
        if case == "filter":  # Web leads created in Q2: L1, L2, L3, L9
            assert value(org, "leads", filters={"source": str(funnel.web.pk)}) == 4
        elif case == "slice":
            rows = metric_values(
                org=org,
                metric="leads",
                period="custom",
                group_by=["source"],
                date_from=Q2_FROM,
                date_to=Q2_TO,
                filters={},
            )
            assert sum(row["numerator"] for row in rows) == 7
        elif case == "time zone":  # the snapshot's months are New York months
            org.time_zone = "Europe/Berlin"
            org.save()
            assert value(org, "leads") == 7  # L6 (06-30 23:30 New York) is a July lead in Berlin: L8 is Q2
        else:
            table = metric_table(
                org=org,
                metrics=["leads"],
                period="custom",
                group_by=[],
                date_from=Q2_FROM,
                date_to=Q2_TO,
                filters={},
                as_of=timezone.now(),
            )
            assert table.rows[0]["values"]["leads"].numerator == 7


def test_a_snapshot_of_another_time_zone_is_not_read(funnel):
    org = funnel.org
    with tenant_context(org):
        snapshot_recompute(org=org)
        tamper_april_total(org, 100)
        org.time_zone = "UTC"
        org.save()
        # In UTC, L6 (07-01 03:30 UTC) leaves Q2 and L8 (04-01 03:00 UTC) joins it: still 7, never 107.
        assert value(org, "leads") == 7
        snapshot_recompute(org=org)
        assert value(org, "leads") == 7


def test_recompute_command(funnel, other_org):
    call_command("reports_recompute", "--org", funnel.org.slug)
    with tenant_context(funnel.org):
        assert MetricSnapshot.objects.filter(organization=funnel.org).exists()
    with pytest.raises(CommandError):
        call_command("reports_recompute", "--org", "no-such-org")
