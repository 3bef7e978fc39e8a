from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient


def test_it_prints_the_key_alone_on_the_last_line_and_the_key_works(org):
    out = StringIO()
    call_command("create_api_key", "--org", org.slug, "--scopes", "read,write", "--name", "CLI", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("lt_") and " " not in raw
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.post("/api/v1/leads/", {"company": "From the CLI"}, format="json").status_code == 201


def test_it_refuses_unknown_organizations_and_scopes(org):
    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_key", "--org", "nope", "--name", "x", stdout=StringIO())
    with pytest.raises(CommandError, match="scope"):
        call_command(
            "create_api_key", "--org", org.slug, "--scopes", "read,root", "--name", "x", stdout=StringIO()
        )
