"""The public key lookup: one form visible by its key before any organization is active."""

from __future__ import annotations

from django.db import connection

from capture.forms.models import LeadForm
from capture.forms.selectors import form_for_key
from tests.forms.conftest import make_form


def _visible_form_ids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM webforms_leadform ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_without_an_organization_or_a_key_no_form_is_visible(org, other_org):
    make_form(org)
    make_form(other_org)

    assert _visible_form_ids() == []
    assert LeadForm.unscoped.count() == 0


def test_the_key_shows_exactly_its_own_form(org, other_org):
    acme = make_form(org)
    make_form(other_org)

    found = form_for_key(key=acme.key)

    assert (found.pk, found.organization.slug) == (acme.pk, "acme")
    # The lookup setting does not outlive the lookup.
    assert _visible_form_ids() == []


def test_a_wrong_or_malformed_key_finds_nothing(org):
    acme = make_form(org)

    assert form_for_key(key=acme.key[:-1] + ("A" if acme.key[-1] != "A" else "B")) is None
    assert form_for_key(key="' OR 1=1 --") is None
    assert form_for_key(key="") is None


def test_the_lookup_policy_is_read_only(org):
    acme = make_form(org)

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.form_key', %s, true)", [acme.key])
        cursor.execute("UPDATE webforms_leadform SET name = 'hijacked' WHERE key = %s", [acme.key])
        updated = cursor.rowcount
        cursor.execute("SELECT set_config('app.form_key', '', true)")

    assert updated == 0
