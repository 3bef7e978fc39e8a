"""G2: erasure (Art. 17), then a fresh pg_dump of the whole test database holds no identifier
of the subject in Acme's rows (history, audit and payload tables included), the search index
no longer finds them, funnel counts are unchanged and Globex's same-address lead is untouched."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.utils import timezone

from capture.forms.models import FormSubmission
from capture.tracking.models import PageView
from leads.imports.privacy import FILE_REMOVED
from leads.models import Activity, ImportJob, Lead, LeadChange, SavedView
from leadtrack import embedded
from leadtrack.privacy.models import ErasedLead, ErasureLog, ErasureReason
from leadtrack.privacy.services import email_hash, subject_erase
from leadtrack.tenancy.context import tenant_context
from reports.attribution.models import EmailEvent
from reports.attribution.selectors import email_engagement
from reports.selectors import metric_values
from tests.privacy.conftest import CONSENT, DEVICE_IDENTIFIERS, EMAIL, IDENTIFIERS, NAME, PHONE, build_world

BACKUP_ROLE = "leadtrack_backup"
FUNNEL_METRICS = ("leads", "mqls", "sqls", "won", "lost")
# Counted from page views, visitor ids and e-mail message ids: pseudonymised, never deleted.
WEB_METRICS = ("page_views", "unique_visitors", "website_traffic", "new_visitors", "landing_page_conversion")


def _db_params(user: str | None = None, dbname: str | None = None) -> dict:
    db = connection.settings_dict
    params = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": user or db["USER"],
        "dbname": dbname or db["NAME"],
    }
    if db.get("PASSWORD") and user is None:
        params["password"] = db["PASSWORD"]
    return params


def _dump_text(tmp_path: Path) -> str:
    """A plain-format pg_dump of the test database as the backup role (RLS is forced on every
    tenant table, so only a BYPASSRLS role sees all rows: tests/reliability/test_backup_restore.py)."""
    try:
        superuser = psycopg2.connect(**_db_params(user="postgres", dbname="postgres"))
    except psycopg2.Error as exc:
        pytest.skip(f"no superuser to create the {BACKUP_ROLE} role (BYPASSRLS) here: {exc}")
    superuser.autocommit = True
    with superuser.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BACKUP_ROLE])
        if not cursor.fetchone():
            cursor.execute(f"CREATE ROLE {BACKUP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS")
        cursor.execute(f"GRANT pg_read_all_data TO {BACKUP_ROLE}")
    superuser.close()
    params = _db_params(user=BACKUP_ROLE)
    out = tmp_path / "after-erasure.sql"
    pg_dump = str(embedded._pg_bin_path() / "pg_dump")
    args = [pg_dump, "-h", str(params["host"]), "-p", str(params["port"]), "-U", BACKUP_ROLE]
    done = subprocess.run(
        [*args, "-Fp", "--data-only", "-f", str(out), params["dbname"]],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8")


def _occurrences(dump: str, identifiers, *, org_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """Occurrences of each identifier in rows of ``org_id`` (or of tables without an
    organization) and in other organizations' rows, read from the COPY blocks of a dump."""
    ours = dict.fromkeys(identifiers, 0)
    theirs = dict.fromkeys(identifiers, 0)
    org_column = None
    for line in dump.splitlines():
        header = re.match(r"COPY \S+ \((.*)\) FROM stdin;", line)
        if header:
            columns = [c.strip().strip('"') for c in header.group(1).split(",")]
            org_column = columns.index("organization_id") if "organization_id" in columns else None
            continue
        lowered = line.lower()
        for identifier in identifiers:
            found = lowered.count(identifier.lower())
            if not found:
                continue
            cells = line.split("\t")
            other = org_column is not None and len(cells) > org_column and cells[org_column] != str(org_id)
            (theirs if other else ours)[identifier] += found
    return ours, theirs


def _email_rates(org, date_from: date, date_to: date) -> list:
    return [
        (row["label"], row["delivered"], *(value.value for value in row["values"].values()))
        for row in email_engagement(org=org, date_from=date_from, date_to=date_to)
    ]


def _funnel(org) -> dict[str, list]:
    today = timezone.localdate()
    return {
        metric: [
            row["value"]
            for row in metric_values(
                org=org,
                metric=metric,
                period="month",
                group_by=[],
                date_from=date(today.year - 1, 1, 1),
                date_to=today,
                filters={},
            )
        ]
        for metric in (*FUNNEL_METRICS, *WEB_METRICS)
    } | {"email": _email_rates(org, date(today.year - 1, 1, 1), today)}


def test_erasure_leaves_no_identifier_in_a_fresh_dump(
    transactional_db, tmp_path, org, other_org, alice, charlie
):
    world = build_world(org, other_org, alice, charlie)
    with tenant_context(org):
        funnel_before = _funnel(org)
        erasure = subject_erase(org=org, actor=alice, email=EMAIL)

    dump = _dump_text(tmp_path)
    ours, theirs = _occurrences(dump, (*IDENTIFIERS, *DEVICE_IDENTIFIERS), org_id=org.pk)
    assert ours == dict.fromkeys((*IDENTIFIERS, *DEVICE_IDENTIFIERS), 0)
    # Globex's lead keeps the address, the name and the phone.
    assert theirs[EMAIL] >= 1 and theirs[NAME] == 1 and theirs[PHONE] == 1

    with tenant_context(org):
        assert _funnel(org) == funnel_before
        # The seeded page views and e-mail events are counted (the comparison is not of empties).
        assert [funnel_before[m][0] for m in WEB_METRICS] == [3, 2, 2, 2, 0]
        assert funnel_before["email"][0] == ("Spring newsletter", 2, 0.5, 0.0, 0.0)
        submission = FormSubmission.objects.get(pk=world.submission)
        assert (submission.consent_given, submission.consent_text, submission.utm_source) == (
            True,
            CONSENT,
            "newsletter",
        )
        assert submission.page_url == "https://acme.example/contact"
        assert PageView.objects.filter(visitor_id="lt-vid-sam-0001").values_list("ip_prefix", flat=True).get()
        assert EmailEvent.objects.get(message_id="msg-sam-1").recipient == "sam@other.example"
        assert not Lead.objects.filter(
            organization=org, search_vector=SearchQuery("roe", config="simple")
        ).exists()
        lead_a = Lead.objects.get(pk=world.lead_a)
        assert (lead_a.email, lead_a.contact_name, lead_a.phone, lead_a.notes) == ("", "", "", "")
        assert (lead_a.company, lead_a.stage, lead_a.reached_mql_at is not None) == ("Initech", "mql", True)
        assert Lead.objects.get(pk=world.sam).email == "sam@other.example"
        assert SavedView.objects.get().query == "stage=mql"
        activity = Activity.objects.get(lead_id=world.lead_a)
        assert (activity.subject, activity.body, activity.url, activity.utm_source) == (
            "",
            "",
            "",
            "newsletter",
        )
        job = ImportJob.objects.get(pk=world.import_job)
        assert (bytes(job.content), job.status, job.failure) == (b"", ImportJob.Status.FAILED, FILE_REMOVED)
        assert LeadChange.objects.filter(changes__erased=[False, True]).count() == 3
        assert set(ErasedLead.objects.values_list("lead_id", flat=True)) == {
            world.lead_a,
            world.lead_b,
            world.lead_c,
        }
    with tenant_context(other_org):
        globex = Lead.objects.get(pk=world.globex_lead)
        assert (globex.email, globex.contact_name, globex.phone) == (EMAIL, NAME, PHONE)
        assert Lead.objects.filter(search_vector=SearchQuery("roe", config="simple")).count() == 1
    with tenant_context(org):
        log = ErasureLog.objects.filter(organization=org).values().get()
    assert log["email_hash"] == email_hash(org=org, email=EMAIL) and EMAIL not in str(log)
    assert (log["reason"], log["actor_id"], log["lead_count"]) == (ErasureReason.REQUEST, alice.pk, 3)
    assert erasure.counts == {
        "tenancy.invitations": 1,
        "referrals.referrals": 1,
        "referrals.partner_contacts": 1,
        # The fixture's row, and lead.created of A, B and C: here the world's transaction commits,
        # so the real receivers queued those deliveries (Sam's two are not touched).
        "api.webhook_deliveries": 4,
        "api.idempotency_records": 1,
        "imports.import_row_errors": 1,
        "imports.import_files_dropped": 1,
        "leads.activities": 1,
        "leads.stage_transitions": 0,
        # The phone change and the merge entry ("merged_from") name her; B's deletion does not.
        "leads.changes": 2,
        "leads.leads": 3,
        "leads.saved_views": 1,
        # Kept as proof; the page URL in its source named her.
        "leads.consents": 1,
        "forms.submissions": 2,
        "tracking.visitors": 1,
        "tracking.page_views": 2,
        "email_events.email_events": 3,
    }
    print(
        f"\n[G2] dump_bytes={len(dump)} occurrences={sum(ours.values())} "
        "(email, old email, name, phone, old phone, url-encoded email, visitor id, ip prefix, user agent, "
        "e-mail message id, clicked link in Acme rows) "
        f"other_org_kept={sum(theirs.values())} "
        f"rows_changed={sum(erasure.counts.values())} leads_anonymised={erasure.lead_count} "
        f"metrics_unchanged={len(funnel_before)} (funnel, web, e-mail)"
    )


def test_erasing_twice_changes_nothing_the_second_time(org, other_org, alice, charlie, world):
    with tenant_context(org):
        subject_erase(org=org, actor=alice, email=EMAIL)
        again = subject_erase(org=org, actor=alice, email=EMAIL)
        assert again.lead_count == 0
        assert sum(again.counts.values()) == 0
        assert ErasureLog.objects.filter(organization=org).count() == 2
