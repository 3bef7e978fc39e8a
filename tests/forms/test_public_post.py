"""POST /f/<key>: plain HTML, fetch/JSON, another origin, bad input, unknown or inactive forms."""

from __future__ import annotations

import json

import pytest

from capture import signals as capture_signals
from capture.forms.models import FormSubmission, SubmissionStatus
from leads.models import Activity, ActivityKind, ChannelType, Lead
from leadtrack.tenancy.context import tenant_context
from tests.forms.conftest import CONSENT, make_form

SITE = "https://www.acme.example"
OTHER_SITE = "https://evil.example"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Post and run what commits would run (the processing task, eagerly)."""

    def _post(form, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/f/{form.key}", data, **extra)

    return _post


def _post_json(post, form, data, **extra):
    return post(form, json.dumps(data), content_type="application/json", **extra)


def _submissions(org):
    with tenant_context(org):
        return list(FormSubmission.objects.order_by("pk"))


def _leads(org):
    with tenant_context(org):
        return list(Lead.objects.select_related("source").order_by("pk"))


class TestPlainHtmlPost:
    def test_it_stores_the_submission_and_redirects_to_the_thank_you_page(
        self, client, post, org, lead_form, valid_post
    ):
        response = post(lead_form, valid_post)

        assert response.status_code == 303
        assert response["Location"] == f"/f/{lead_form.key}/thanks"
        thanks = client.get(response["Location"])
        assert thanks.status_code == 200
        assert "Thanks, we will call you." in thanks.content.decode()
        [submission] = _submissions(org)
        assert submission.status == SubmissionStatus.CREATED
        assert submission.embed == "html"
        assert submission.lead_data == {
            "contact_name": "Jane Roe",
            "email": "jane@initech.example",
            "company": "Initech",
        }
        assert submission.custom_data == {"budget": "10k"}

    def test_it_creates_the_lead_under_the_web_form_source_with_a_web_form_activity(
        self, post, org, lead_form, valid_post
    ):
        post(lead_form, valid_post)

        [lead] = _leads(org)
        assert (lead.contact_name, lead.email, lead.company) == (
            "Jane Roe",
            "jane@initech.example",
            "Initech",
        )
        assert lead.source.name == "Web form"
        assert lead.source.channel_type == ChannelType.WEB_FORM
        with tenant_context(org):
            [activity] = Activity.objects.filter(lead=lead)
        assert activity.kind == ActivityKind.WEB_FORM
        assert activity.via == "form"
        assert activity.url == "https://www.acme.example/contact?utm_source=partner"
        assert activity.referrer_url == "https://partner.example/blog"
        assert (activity.utm_source, activity.utm_medium, activity.utm_campaign) == (
            "partner",
            "referral",
            "cert",
        )
        assert activity.subject == "Web form: Contact us"
        assert "Budget: 10k" in activity.body
        assert f"Consent given: “{CONSENT}”" in activity.body

    def test_it_stores_the_exact_consent_text_beside_the_submission(self, post, org, lead_form, valid_post):
        post(lead_form, valid_post)
        with tenant_context(org):
            lead_form.consent_text = "A later wording."
            lead_form.save()

        [submission] = _submissions(org)
        assert submission.consent_given is True
        assert submission.consent_text == CONSENT

    def test_it_redirects_to_the_form_s_redirect_url(self, post, org, valid_post):
        form = make_form(org, redirect_url="https://www.acme.example/thank-you")

        response = post(form, valid_post)

        assert response.status_code == 303
        assert response["Location"] == "https://www.acme.example/thank-you"

    def test_it_files_the_lead_under_the_form_s_campaign(self, post, org, valid_post):
        from leads.models import Campaign, Source

        with tenant_context(org):
            source = Source.objects.create(
                organization=org, name="Website", channel_type=ChannelType.WEB_FORM
            )
            campaign = Campaign.objects.create(organization=org, name="Cert 2026")
        form = make_form(org, source=source, campaign=campaign)

        post(form, valid_post)

        [lead] = _leads(org)
        assert (lead.source_id, lead.campaign_id) == (source.pk, campaign.pk)

    def test_it_truncates_the_ip_address_before_storing_it(self, post, org, lead_form, valid_post):
        post(lead_form, valid_post, REMOTE_ADDR="203.0.113.77")
        post(lead_form, {**valid_post, "email": "b@initech.example"}, REMOTE_ADDR="2001:db8:abcd:12:1:2:3:4")

        assert [s.ip_prefix for s in _submissions(org)] == ["203.0.113.0", "2001:db8:abcd::"]

    def test_it_announces_the_visitor_to_tracking(self, post, org, lead_form, valid_post):
        heard = []

        def receiver(sender, **kwargs):
            heard.append(kwargs)

        capture_signals.visitor_identified.connect(receiver)
        try:
            post(lead_form, valid_post)
        finally:
            capture_signals.visitor_identified.disconnect(receiver)

        [lead] = _leads(org)
        assert heard == [
            {
                "signal": capture_signals.visitor_identified,
                "organization_id": org.pk,
                "lead_id": lead.pk,
                "visitor_id": "v-123",
                "via": "form",
            }
        ]

    def test_it_takes_the_page_from_the_referer_header_without_the_tracking_script(
        self, post, org, lead_form, valid_post
    ):
        data = {**valid_post, "page_url": ""}

        post(lead_form, data, HTTP_REFERER="https://www.acme.example/pricing")

        assert _submissions(org)[0].page_url == "https://www.acme.example/pricing"


class TestFetchPost:
    def test_it_answers_json(self, post, org, lead_form, valid_post):
        response = _post_json(post, lead_form, valid_post, HTTP_ACCEPT="application/json")

        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "message": "Thanks, we will call you.",
            "redirect_url": None,
        }
        assert len(_leads(org)) == 1

    def test_a_urlencoded_post_asking_for_json_gets_json(self, post, org, lead_form, valid_post):
        response = post(lead_form, valid_post, HTTP_ACCEPT="application/json")

        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    def test_json_carries_the_redirect_url(self, post, org, valid_post):
        form = make_form(org, redirect_url="https://www.acme.example/thank-you")

        response = _post_json(post, form, valid_post)

        assert response.json()["redirect_url"] == "https://www.acme.example/thank-you"


class TestCrossOrigin:
    @pytest.fixture
    def embedded_form(self, org):
        return make_form(org, allowed_origins=[SITE + "/contact"])

    def test_the_origin_is_stored_normalized(self, embedded_form):
        assert embedded_form.allowed_origins == [SITE]

    def test_preflight_from_an_allowed_origin_is_answered(self, client, embedded_form):
        response = client.options(
            f"/f/{embedded_form.key}", HTTP_ORIGIN=SITE, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )

        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == SITE
        assert "POST" in response["Access-Control-Allow-Methods"]
        assert "Content-Type" in response["Access-Control-Allow-Headers"]

    def test_preflight_from_another_origin_gets_no_cors_headers(self, client, embedded_form):
        response = client.options(
            f"/f/{embedded_form.key}", HTTP_ORIGIN=OTHER_SITE, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )

        assert response.status_code == 204
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Methods" not in response

    def test_a_post_from_an_allowed_origin_gets_its_origin_back(self, post, org, embedded_form, valid_post):
        response = post(embedded_form, valid_post, HTTP_ORIGIN=SITE, HTTP_ACCEPT="application/json")

        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SITE
        assert "Origin" in response["Vary"]
        assert len(_leads(org)) == 1

    def test_a_post_from_another_origin_is_refused_and_not_stored(self, post, org, embedded_form, valid_post):
        response = post(embedded_form, valid_post, HTTP_ORIGIN=OTHER_SITE, HTTP_ACCEPT="application/json")

        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response
        assert _submissions(org) == []

    def test_without_listed_origins_a_plain_post_from_any_site_is_accepted(
        self, post, org, lead_form, valid_post
    ):
        response = post(lead_form, valid_post, HTTP_ORIGIN=OTHER_SITE)

        assert response.status_code == 303
        assert "Access-Control-Allow-Origin" not in response
        assert len(_submissions(org)) == 1

    def test_without_listed_origins_a_script_post_from_another_site_is_refused(
        self, post, org, lead_form, valid_post
    ):
        response = post(lead_form, valid_post, HTTP_ORIGIN=OTHER_SITE, HTTP_ACCEPT="application/json")

        assert response.status_code == 403
        assert _submissions(org) == []

    def test_the_endpoint_needs_no_csrf_token(self, org, lead_form, valid_post):
        from django.test import Client

        response = Client(enforce_csrf_checks=True).post(f"/f/{lead_form.key}", valid_post)

        assert response.status_code == 303


class TestBadInput:
    def test_a_missing_required_field_is_a_field_error(self, post, org, lead_form, valid_post):
        data = {k: v for k, v in valid_post.items() if k != "email"}

        response = _post_json(post, lead_form, data)

        assert response.status_code == 400
        assert response.json() == {"errors": {"email": ["This field is required."]}}
        assert _submissions(org) == []

    def test_missing_consent_is_a_field_error(self, post, org, lead_form, valid_post):
        data = {k: v for k, v in valid_post.items() if k != "consent"}

        response = _post_json(post, lead_form, data)

        assert response.json() == {"errors": {"consent": ["Please give your consent to send this form."]}}

    def test_an_unknown_field_is_a_field_error(self, post, lead_form, valid_post):
        response = _post_json(post, lead_form, {**valid_post, "password": "x", "phone": "+1 555"})

        assert response.status_code == 400
        assert response.json() == {"errors": {"password": ["Unknown field."], "phone": ["Unknown field."]}}

    def test_an_oversized_field_is_a_field_error(self, post, lead_form, valid_post):
        response = _post_json(post, lead_form, {**valid_post, "company": "x" * 201, "budget": "y" * 1001})

        assert response.status_code == 400
        assert response.json() == {
            "errors": {
                "company": ["Ensure this value has at most 200 characters."],
                "budget": ["Ensure this value has at most 1000 characters."],
            }
        }

    def test_a_bad_e_mail_and_a_bad_number_are_field_errors(self, post, lead_form, valid_post):
        response = _post_json(post, lead_form, {**valid_post, "email": "jane.initech", "employees": "many"})

        assert response.json() == {
            "errors": {"email": ["Enter a valid email address."], "employees": ["Enter a whole number."]}
        }

    def test_an_oversized_body_is_refused(self, post, org, lead_form, valid_post):
        response = post(lead_form, {**valid_post, "budget": "z" * 70_000}, HTTP_ACCEPT="application/json")

        assert response.status_code == 400
        assert response.json() == {"errors": {"__all__": ["The form is too large (over 64 KB)."]}}

    def test_malformed_json_is_a_400(self, post, lead_form):
        response = post(lead_form, "{not json", content_type="application/json")

        assert response.status_code == 400
        assert response.json() == {"errors": {"__all__": ["The body is not valid JSON."]}}

    def test_a_json_list_value_is_a_400(self, post, lead_form, valid_post):
        response = _post_json(post, lead_form, {**valid_post, "company": ["a", "b"]})

        assert response.status_code == 400
        assert response.json() == {"errors": {"__all__": ["“company” must be a text value."]}}

    def test_a_plain_post_with_errors_re_renders_the_form_with_the_values(
        self, post, org, lead_form, valid_post
    ):
        data = {**valid_post, "email": "not-an-address"}

        response = post(lead_form, data)

        assert response.status_code == 400
        page = response.content.decode()
        assert "Enter a valid email address." in page
        assert 'value="Initech"' in page
        assert 'value="not-an-address"' in page
        assert _submissions(org) == []

    def test_hidden_fields_are_cut_to_size_not_refused(self, post, org, lead_form, valid_post):
        response = post(lead_form, {**valid_post, "utm_source": "s" * 300, "page_url": "javascript:alert(1)"})

        assert response.status_code == 303
        [submission] = _submissions(org)
        assert submission.utm_source == "s" * 200
        assert submission.page_url == ""


class TestUnknownAndInactiveForms:
    def test_an_unknown_key_is_404(self, client, lead_form, valid_post):
        assert client.post("/f/NoSuchFormKeyAtAll0123456789", valid_post).status_code == 404
        assert client.post("/f/short", valid_post).status_code == 404
        response = client.post("/f/NoSuchFormKeyAtAll0123456789", valid_post, HTTP_ACCEPT="application/json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert client.get("/f/NoSuchFormKeyAtAll0123456789/embed").status_code == 404
        assert client.get("/f/NoSuchFormKeyAtAll0123456789.js").status_code == 404

    def test_an_inactive_form_is_404_and_stores_nothing(self, client, org, valid_post):
        form = make_form(org, is_active=False)

        assert client.post(f"/f/{form.key}", valid_post).status_code == 404
        assert client.get(f"/f/{form.key}/embed").status_code == 404
        assert client.get(f"/f/{form.key}.js").status_code == 404
        assert _submissions(org) == []

    def test_get_on_the_post_endpoint_is_405(self, client, lead_form):
        assert client.get(f"/f/{lead_form.key}").status_code == 405
