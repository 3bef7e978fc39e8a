"""API test fixtures: keys made by the real service, a client per key, generous limits.

Rate limits are lifted here so functional tests never trip them; the throttling
tests set their own small limits. Webhook receivers run on 127.0.0.1, which the
SSRF guard refuses outside tests.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.API_RATE_LIMITS = {"key": "100000/min", "organization": "100000/min"}
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def make_key(db):
    def _make(org, scopes=("read", "write"), name="Test integration") -> str:
        with tenant_context(org):
            _, raw = api_key_create(org=org, actor=None, name=name, scopes=scopes)
        return raw

    return _make


@pytest.fixture
def client_for(make_key):
    """An APIClient sending a new key of ``org`` with ``scopes``."""

    def _client(org, scopes=("read", "write")) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(org, scopes)}")
        return client

    return _client


@pytest.fixture
def acme_api(org, client_for):
    return client_for(org, ("read", "write"))


@pytest.fixture
def globex_api(other_org, client_for):
    return client_for(other_org, ("read", "write"))
