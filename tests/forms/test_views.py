"""The builder's pages: roles, ownership, building a form, snippets, submissions."""

from __future__ import annotations

import pytest

from capture.forms.models import LeadForm
from leadtrack.tenancy.context import tenant_context
from tests.forms.conftest import make_form

PAGES = ("", "new/", "{id}/", "{id}/edit/", "{id}/submissions/")


def _url(page: str, form_id: int, slug: str = "acme") -> str:
    return f"/o/{slug}/forms/" + page.format(id=form_id)


def builder_post(**overrides) -> dict:
    """What the builder page posts: settings, one row per lead field, custom field rows."""
    from capture.forms.fields import LEAD_FIELDS

    data = {
        "name": "Demo request",
        "is_active": "on",
        "submit_label": "Request a demo",
        "thank_you_message": "Thanks!",
        "min_seconds_to_submit": "3",
        "allowed_origins": "https://www.acme.example/\nhttp://localhost:8080",
        "consent_enabled": "on",
        "consent_required": "on",
        "consent_text": "Acme may contact me.",
        "lead-TOTAL_FORMS": str(len(LEAD_FIELDS)),
        "lead-INITIAL_FORMS": str(len(LEAD_FIELDS)),
        "custom-TOTAL_FORMS": "3",
        "custom-INITIAL_FORMS": "0",
    }
    for index, spec in enumerate(LEAD_FIELDS):
        data[f"lead-{index}-name"] = spec.name
        data[f"lead-{index}-label"] = spec.label
        data[f"lead-{index}-order"] = str(index)
        if spec.name in ("email", "company"):
            data[f"lead-{index}-include"] = "on"
        if spec.name == "email":
            data[f"lead-{index}-required"] = "on"
    data["custom-0-name"] = "product_interest"
    data["custom-0-label"] = "Which product?"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class TestRolesAndOwnership:
    @pytest.mark.parametrize("page", PAGES)
    def test_admins_and_managers_open_every_page(self, login, alice, mike, lead_form, page):
        for user in (alice, mike):
            assert login(user).get(_url(page, lead_form.pk)).status_code == 200

    @pytest.mark.parametrize("page", PAGES)
    def test_reps_and_viewers_get_403(self, login, bob, vera, lead_form, page):
        for user in (bob, vera):
            assert login(user).get(_url(page, lead_form.pk)).status_code == 403

    @pytest.mark.parametrize("page", PAGES[2:])
    def test_another_organization_s_form_is_404(self, login, alice, charlie, other_org, page):
        foreign = make_form(other_org, name="Globex form")

        assert login(alice).get(_url(page, foreign.pk)).status_code == 404
        assert login(alice).post(_url(page, foreign.pk), builder_post()).status_code == 404

    @pytest.mark.parametrize("page", PAGES)
    def test_an_outsider_gets_404(self, login, charlie, lead_form, page):
        assert login(charlie).get(_url(page, lead_form.pk)).status_code == 404

    def test_the_nav_shows_forms_to_managers_only(self, login, mike, bob, org):
        assert "/o/acme/forms/" in login(mike).get("/o/acme/forms/").content.decode()
        assert "/o/acme/forms/" not in login(bob).get("/o/acme/leads/").content.decode()


class TestBuilder:
    def test_it_builds_a_form_from_the_rows(self, login, alice, org):
        response = login(alice).post("/o/acme/forms/new/", builder_post())

        with tenant_context(org):
            form = LeadForm.objects.select_related("source", "created_by").get()
        assert response.status_code == 302
        assert response["Location"] == f"/o/acme/forms/{form.pk}/"
        assert form.fields == [
            {"name": "email", "label": "E-mail", "required": True, "custom": False},
            {"name": "company", "label": "Company", "required": False, "custom": False},
            {"name": "product_interest", "label": "Which product?", "required": False, "custom": True},
        ]
        assert form.allowed_origins == ["http://localhost:8080", "https://www.acme.example"]
        assert (form.consent_enabled, form.consent_text) == (True, "Acme may contact me.")
        assert form.source.name == "Web form"
        assert form.created_by == alice
        assert len(form.key) == 32

    def test_the_order_column_orders_the_fields(self, login, alice, org):
        login(alice).post("/o/acme/forms/new/", builder_post(**{"lead-2-order": "0", "lead-1-order": "5"}))

        with tenant_context(org):
            names = [f["name"] for f in LeadForm.objects.get().fields]
        assert names == ["company", "email", "product_interest"]

    def test_a_form_needs_a_required_identity_field(self, login, alice, org):
        response = login(alice).post("/o/acme/forms/new/", builder_post(**{"lead-1-required": None}))

        assert response.status_code == 200
        assert "Make at least one of name, e-mail or company a required field" in response.content.decode()
        with tenant_context(org):
            assert not LeadForm.objects.exists()

    def test_bad_origins_and_reserved_custom_names_are_field_errors(self, login, alice, org):
        response = login(alice).post(
            "/o/acme/forms/new/",
            builder_post(allowed_origins="ftp://files.example", **{"custom-0-name": "utm_source"}),
        )

        page = response.content.decode()
        assert "is not a site origin" in page
        assert "This name is reserved" in page
        with tenant_context(org):
            assert not LeadForm.objects.exists()

    def test_another_organization_s_source_cannot_be_chosen(self, login, alice, org, other_org):
        from leads.models import Source

        with tenant_context(other_org):
            foreign = Source.objects.create(organization=other_org, name="Globex web")

        response = login(alice).post("/o/acme/forms/new/", builder_post(source=str(foreign.pk)))

        assert "Select a valid choice" in response.content.decode()
        with tenant_context(org):
            assert not LeadForm.objects.exists()

    def test_it_edits_a_form_keeping_its_key(self, login, alice, org, lead_form):
        response = login(alice).get(f"/o/acme/forms/{lead_form.pk}/edit/")
        assert 'value="Your name"' in response.content.decode()

        login(alice).post(f"/o/acme/forms/{lead_form.pk}/edit/", builder_post(name="Renamed", is_active=None))

        with tenant_context(org):
            edited = LeadForm.objects.get(pk=lead_form.pk)
        assert (edited.name, edited.is_active, edited.key) == ("Renamed", False, lead_form.key)


class TestDetailAndSubmissions:
    def test_the_detail_page_shows_the_three_snippets(self, login, alice, lead_form):
        page = login(alice).get(f"/o/acme/forms/{lead_form.pk}/").content.decode()

        assert f'action="http://testserver/f/{lead_form.key}"' in page.replace("&quot;", '"')
        assert f"http://testserver/f/{lead_form.key}.js" in page
        assert f"http://testserver/f/{lead_form.key}/embed" in page
        assert "data-leadtrack-form" in page
        for hidden in ("lt_vid", "utm_source", "utm_campaign", "page_url", "referrer"):
            assert f"name=&quot;{hidden}&quot;" in page

    def test_the_submission_list_shows_each_status(
        self, client, login, alice, org, lead_form, valid_post, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/f/{lead_form.key}", valid_post)
            client.post(f"/f/{lead_form.key}", valid_post)

        page = login(alice).get(f"/o/acme/forms/{lead_form.pk}/submissions/").content.decode()
        assert "New lead" in page
        assert "Existing lead" in page
        assert page.count("jane@initech.example") == 2
        only_new = (
            login(alice).get(f"/o/acme/forms/{lead_form.pk}/submissions/?status=created").content.decode()
        )
        assert only_new.count("jane@initech.example") == 1

    def test_the_form_list_counts_submissions(self, client, login, alice, lead_form, valid_post):
        client.post(f"/f/{lead_form.key}", valid_post)

        page = login(alice).get("/o/acme/forms/").content.decode()
        assert "Contact us" in page
        assert ">1</a>" in page
