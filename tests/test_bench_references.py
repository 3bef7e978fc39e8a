"""The benchmark's list references read the fields the API's lead list reads (bench/sql.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench import run as bench_run
from bench.sql import LIST_FIELDS
from leads.api.serializers import LEAD_VALUES

ROOT = Path(__file__).resolve().parents[1]


def test_the_list_references_select_the_api_leads_fields():
    assert LIST_FIELDS == LEAD_VALUES


def test_the_bare_wsgi_floor_imports_the_fields_without_django():
    """The floor runs outside Django: the column list it shares with the API must not need it."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = "import sys, bench.bare_wsgi; assert 'django.conf' not in sys.modules, 'imports Django'"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


@pytest.mark.django_db(transaction=True)
def test_the_import_reference_copies_into_the_leads_table_and_drops_its_rows(org):
    """G5's reference is COPY into leads_lead itself, committed, then its organization is dropped."""
    database = connection.settings_dict
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    url = f"postgres://{database['USER']}@{host}/{database['NAME']}"
    superuser = bench_run._superuser(url)
    if superuser is None:
        pytest.skip("the reference copies as the server's superuser, which is not reachable here")
    with contextlib.closing(superuser), superuser.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('leads_lead', 'id'))")
        before = cursor.fetchone()[0]
        columns, lines = bench_run._copy_lines(url, 50)
        seconds = bench_run._copy_into_leads_table(url, columns, lines)
        cursor.execute("SELECT nextval(pg_get_serial_sequence('leads_lead', 'id'))")
        after = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM leads_lead")
        leads_left = cursor.fetchone()[0]
        cursor.execute("SELECT slug FROM tenancy_organization")
        organizations = [slug for (slug,) in cursor.fetchall()]
    print(f"\n[bench reference] COPY of 50 leads into leads_lead, committed: {seconds * 1000:.1f} ms")
    assert after - before == 51  # the 50 copied rows drew their ids from leads_lead's own sequence
    assert leads_left == 0
    assert organizations == [org.slug]
