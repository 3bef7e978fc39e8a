"""Recompute organizations' metric snapshots now, in this process (operators, benchmarks).

    python manage.py reports_recompute --org acme --org globex     # or --all

The nightly beat fan-out (reports.tasks) does the same through Celery; this runs the
same service, one organization at a time, each in its own tenant transaction.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from reports.models import SnapshotRun
from reports.services import snapshot_recompute


class Command(BaseCommand):
    help = "Recompute the metric snapshots of the given organizations now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", action="append", default=[], help="organization slug (repeatable)")
        parser.add_argument("--all", action="store_true", help="every organization")

    def handle(self, *args, org: list[str], all: bool, **options) -> None:
        if all:
            organizations = list(Organization.objects.order_by("pk"))
        else:
            organizations = list(Organization.objects.filter(slug__in=org).order_by("pk"))
            missing = set(org) - {organization.slug for organization in organizations}
            if missing or not org:
                raise CommandError(f"unknown organization(s): {', '.join(sorted(missing)) or '(none given)'}")
        for organization in organizations:
            with tenant_context(organization):
                run = snapshot_recompute(org=organization, trigger=SnapshotRun.Trigger.MANUAL)
            self.stdout.write(f"{organization.slug}: {run.rows_written} rows in {run.duration_ms} ms")
