"""The benchmark's references do the work they are named for (bench/sql.py, bench/reference_views.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from bench import reference_views
from bench import run as bench_run
from bench.sql import LIST_FIELDS
from funnel.models import StageTransition
from leads.api.serializers import LEAD_VALUES
from leads.models import Lead
from leadtrack.api.services import api_key_create
from leadtrack.audit.models import AuditEvent
from leadtrack.tenancy.context import tenant_context

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


@pytest.fixture
def references():
    """The references keep each organization found by slug: a new test's organization is another row."""
    reference_views._organization.cache_clear()
    yield
    reference_views._organization.cache_clear()


def _rows_written(org, post) -> tuple[int, int, int]:
    """Leads, stage transitions and audit events that ``post()`` added to ``org``."""

    def counts():
        with tenant_context(org):
            return Lead.objects.count(), StageTransition.objects.count(), AuditEvent.objects.count()

    before = counts()
    response = post()
    assert response.status_code == 201, response.content
    return tuple(after - was for after, was in zip(counts(), before, strict=True))


@override_settings(ROOT_URLCONF="bench.urls", API_RATE_LIMITS={"key": "1000/min", "organization": "1000/min"})
def test_the_same_rows_reference_writes_what_a_product_create_writes(org, references):
    """The information row "beside a reference writing the same rows" compares like with like."""
    with tenant_context(org):
        _, raw_key = api_key_create(org=org, actor=None, name="bench", scopes=("read", "write"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    body = {"company": "Rows Inc", "contact_name": "Ann Rows", "email": "ann@rows.example", "country": "DE"}
    product = _rows_written(org, lambda: api.post("/api/v1/leads/", body, format="json"))
    reference_body = {**body, "email": "bea@rows.example", "contact_name": "Bea Rows"}
    reference = _rows_written(
        org,
        lambda: APIClient().post(
            f"/bench-ref/o/{org.slug}/leads/create-with-rows", reference_body, format="json"
        ),
    )
    assert product == reference == (1, 1, 1)


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_drf_default_reference_creates_the_lead_in_its_organization(org, other_org, references):
    body = {"company": "Drf Inc", "email": "drf@default.example", "country": "FR", "employees": 12}
    written = _rows_written(
        org, lambda: APIClient().post(f"/bench-ref/o/{org.slug}/leads/create-drf", body, format="json")
    )
    assert written == (1, 0, 0)  # no transition, no audit: DRF's default is the lead alone
    with tenant_context(org):
        lead = Lead.objects.get(email="drf@default.example")
    assert (lead.company, str(lead.country), lead.employees) == ("Drf Inc", "FR", 12)
    with tenant_context(other_org):
        assert not Lead.objects.filter(email="drf@default.example").exists()
