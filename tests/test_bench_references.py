"""The benchmark's list references read the fields the API's lead list reads (bench/sql.py)."""

from __future__ import annotations

from bench.sql import LIST_FIELDS
from leads.api.serializers import LEAD_VALUES


def test_the_list_references_select_the_api_leads_fields():
    assert LIST_FIELDS == LEAD_VALUES
