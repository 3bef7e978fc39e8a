"""The benchmark's list references read the fields the API's lead list reads (bench/sql.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
