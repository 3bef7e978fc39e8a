"""One generation of the demo (Robotix and Northwind) per test module, rolled back at its end."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", quiet_logins=True, stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def robotix(seeded, db):
    return Organization.objects.get(slug="robotix")


@pytest.fixture
def northwind(seeded, db):
    return Organization.objects.get(slug="northwind")


@pytest.fixture
def in_tenant():
    def _enter(org):
        return tenant_context(org)

    return _enter
