"""Settings → Privacy pages and the management commands: ownership (404), roles (403), field
errors for bad input, the export download, the erasure's confirmation step."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leads.models import Lead
from leadtrack.privacy.models import ErasureLog, PrivacySettings
from leadtrack.tenancy.context import tenant_context
from tests.privacy.conftest import EMAIL


def _url(name: str, slug: str = "acme") -> str:
    return reverse(name, kwargs={"org_slug": slug})


PAGES = ["privacy_settings", "privacy_export", "privacy_erase", "privacy_retention"]


@pytest.mark.parametrize("name", PAGES)
def test_it_hides_the_pages_from_outsiders(login, org, other_org, charlie, name):
    client = login(charlie)
    assert client.get(_url(name)).status_code == 404
    assert client.post(_url(name), {"export-email": EMAIL}).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_it_refuses_roles_without_manage_settings(login, org, mike, bob, vera, name):
    for user in (mike, bob, vera):
        client = login(user)
        assert client.post(_url(name), {"export-email": EMAIL}).status_code == 403


def test_the_page_lists_holders_and_the_log(login, alice, world):
    response = login(alice).get(_url("privacy_settings"))
    assert response.status_code == 200
    assert b"Export a person" in response.content and b"imports" in response.content


def test_it_downloads_the_subject_export(login, alice, world):
    response = login(alice).post(_url("privacy_export"), {"export-email": EMAIL})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="subject-export.json"'
    document = json.loads(response.content)
    assert document["subject"]["lead_ids"] == sorted([world.lead_a, world.lead_b, world.lead_c])
    assert document["total_records"] == 28


def test_a_bad_address_is_a_field_error(login, alice, org):
    client = login(alice)
    response = client.post(_url("privacy_export"), {"export-email": "nope"})
    assert response.status_code == 400
    assert response.context["export_form"].errors == {"email": ["Enter a valid email address."]}
    response = client.post(_url("privacy_erase"), {"erase-email": ""})
    assert response.status_code == 400
    assert response.context["erase_form"].errors == {"email": ["This field is required."]}


def test_erasure_asks_for_confirmation_first(login, alice, org, world):
    client = login(alice)
    review = client.post(_url("privacy_erase"), {"erase-email": EMAIL})
    assert review.status_code == 200
    assert review.context["counts"]["leads.leads"] == 3
    with tenant_context(org):
        assert Lead.objects.get(pk=world.lead_a).email == EMAIL  # nothing erased yet

    mismatch = client.post(
        _url("privacy_erase"), {"email": EMAIL, "confirm_email": "other@x.example", "understood": "on"}
    )
    assert mismatch.status_code == 400
    assert mismatch.context["form"].errors == {"confirm_email": ["Type the same address again to confirm."]}
    unticked = client.post(_url("privacy_erase"), {"email": EMAIL, "confirm_email": EMAIL})
    assert unticked.status_code == 400 and "understood" in unticked.context["form"].errors

    done = client.post(
        _url("privacy_erase"), {"email": EMAIL, "confirm_email": EMAIL.upper(), "understood": "on"}
    )
    assert done.status_code == 302 and done["Location"] == _url("privacy_settings")
    with tenant_context(org):
        assert Lead.objects.get(pk=world.lead_a).email == ""
        assert ErasureLog.objects.get().actor_id == alice.pk


def test_it_saves_retention_and_refuses_bad_values(login, alice, org):
    client = login(alice)
    for bad in ("abc", "0", "-3"):
        response = client.post(_url("privacy_retention"), {"retention_months": bad})
        assert response.status_code == 400
        assert "retention_months" in response.context["retention_form"].errors
    assert client.post(_url("privacy_retention"), {"retention_months": "18"}).status_code == 302
    with tenant_context(org):
        assert PrivacySettings.objects.get().retention_months == 18
    assert client.post(_url("privacy_retention"), {"retention_months": ""}).status_code == 302
    with tenant_context(org):
        assert PrivacySettings.objects.get().retention_months is None


def test_the_commands_export_and_erase(tmp_path, org, world, capsys):
    out = tmp_path / "export.json"
    call_command("privacy_export", org="acme", email=EMAIL, output=str(out))
    assert json.loads(out.read_text())["total_records"] == 28
    with pytest.raises(CommandError, match="--yes"):
        call_command("privacy_erase", org="acme", email=EMAIL)
    with pytest.raises(CommandError, match="email"):
        call_command("privacy_erase", org="acme", email="bad", yes=True)
    with pytest.raises(CommandError, match="No organization"):
        call_command("privacy_export", org="nope", email=EMAIL)
    call_command("privacy_erase", org="acme", email=EMAIL, yes=True)
    assert "3 lead(s)" in capsys.readouterr().out
    with tenant_context(org):
        assert ErasureLog.objects.get().actor_id is None


def test_a_get_on_a_form_target_goes_back_to_the_page(login, alice, org):
    response = login(alice).get(_url("privacy_erase"))
    assert response.status_code == 302 and response["Location"] == _url("privacy_settings")


def test_an_import_whose_file_was_dropped_still_shows(login, alice, org, world):
    client = login(alice)
    client.post(_url("privacy_erase"), {"email": EMAIL, "confirm_email": EMAIL, "understood": "on"})
    for name in ("lead_import_job", "lead_import_mapping", "lead_import_preview", "lead_import_errors"):
        url = reverse(name, kwargs={"org_slug": "acme", "job_id": world.import_job})
        assert client.get(url).status_code in (200, 302), name
    assert client.get(_url("lead_import")).status_code == 200


def test_a_tampered_address_on_the_confirmation_is_a_field_error(login, alice, org, world):
    response = login(alice).post(
        _url("privacy_erase"), {"email": "x", "confirm_email": "x", "understood": "on"}
    )
    assert response.status_code == 400
    assert response.context["erase_form"].errors == {"email": ["Enter a valid email address."]}
    with tenant_context(org):
        assert not ErasureLog.objects.exists()
