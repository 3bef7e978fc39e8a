"""The nightly recompute as a Celery fan-out: one task per organization.

When the metrics engine provides its recompute task (an OrgTask in
``reports.tasks``), the fan-out uses it; until then, ``recompute_org`` here
stands in for it: the raw per-tenant ``GROUP BY`` into the benchmark's summary
table, in the tenant's context like any OrgTask. ``python -m celery -A
bench.fanout worker -Q bench`` runs the worker with the benchmark settings.
"""

from __future__ import annotations

import importlib
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from celery import group  # noqa: E402
from django.db import connection  # noqa: E402

from bench.sql import RECOMPUTE_ONE  # noqa: E402
from leadtrack.celery import app  # noqa: E402
from leadtrack.tenancy.models import Organization  # noqa: E402
from leadtrack.tenancy.tasks import OrgTask  # noqa: E402

QUEUE = "bench"
# Names the metrics engine may give its per-organization recompute task.
PRODUCT_TASK_CANDIDATES = ("recompute_organization", "recompute_org", "metrics_recompute", "recompute")


@app.task(base=OrgTask, name="bench.recompute_org")
def recompute_org(*, organization_id: int) -> int:
    """Stand-in for the product's recompute: the raw per-tenant GROUP BY (see bench/sql.py)."""
    with connection.cursor() as cursor:
        for statement in RECOMPUTE_ONE:
            cursor.execute(statement, {"org": organization_id})
        return cursor.rowcount


def product_task():
    """The metrics engine's per-organization recompute OrgTask, or None while it does not exist."""
    try:
        module = importlib.import_module("reports.tasks")
    except ImportError:
        return None
    for name in PRODUCT_TASK_CANDIDATES:
        task = getattr(module, name, None)
        if task is not None and isinstance(getattr(task, "__self__", task), OrgTask):
            return task
    for value in vars(module).values():
        if isinstance(value, OrgTask) and "recompute" in value.name:
            return value
    return None


def _purge() -> None:
    """Drop what an earlier, failed fan-out left in the benchmark's own queue."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)


def recompute_one(*, slug: str, use_product: bool, timeout: float) -> dict:
    """One organization's recompute through the worker (the on-demand refresh), timed end to end."""
    task = product_task() if use_product else None
    chosen = task or recompute_org
    organization = Organization.objects.get(slug=slug)
    started = time.monotonic()
    chosen.apply_async(kwargs={"organization_id": organization.pk}, queue=QUEUE).get(timeout=timeout)
    return {"task": chosen.name, "product": task is not None, "seconds": time.monotonic() - started}


def fan_out(*, use_product: bool, timeout: float) -> dict:
    """Enqueue one recompute per organization and wait for all; returns timing and what ran."""
    task = product_task() if use_product else None
    chosen = task or recompute_org
    _purge()
    org_ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    result = group(chosen.s(organization_id=org_id).set(queue=QUEUE) for org_id in org_ids).apply_async()
    result.get(timeout=timeout, propagate=True)
    seconds = time.monotonic() - started
    return {
        "task": chosen.name,
        "product": task is not None,
        "organizations": len(org_ids),
        "seconds": seconds,
    }
