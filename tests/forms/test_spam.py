"""Spam rules: honeypot, minimum time to submit, rate limits, duplicates, double opt-in."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.test import override_settings

from capture.forms import spam
from capture.forms.models import FormSubmission, SubmissionStatus
from leads.models import Activity, ActivityKind, Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead
from tests.forms.conftest import make_form

JSON = {"HTTP_ACCEPT": "application/json"}
OK = {"status": "ok", "message": "Thanks, we will call you.", "redirect_url": None}


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def _post(form, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/f/{form.key}", data, **extra)

    return _post


def _count(org, model):
    with tenant_context(org):
        return model.objects.count()


class TestHoneypot:
    def test_a_filled_honeypot_gets_the_normal_answer_and_nothing_is_stored(
        self, post, org, lead_form, valid_post
    ):
        response = post(lead_form, {**valid_post, "lt_hp": "http://spam.example"}, **JSON)

        assert response.status_code == 200
        assert response.json() == OK
        assert _count(org, FormSubmission) == 0
        assert _count(org, Lead) == 0

    def test_a_plain_post_with_a_filled_honeypot_is_redirected_like_any_other(
        self, post, org, lead_form, valid_post
    ):
        response = post(lead_form, {**valid_post, "lt_hp": "x"})

        assert (response.status_code, response["Location"]) == (303, f"/f/{lead_form.key}/thanks")
        assert _count(org, FormSubmission) == 0


class TestMinimumTimeToSubmit:
    def test_a_post_sooner_than_the_minimum_after_rendering_is_dropped_silently(
        self, post, org, lead_form, valid_post
    ):
        stamp = spam.render_stamp(form_id=lead_form.pk, embed="script", now=time.time() - 1)

        response = post(lead_form, {**valid_post, "lt_ts": stamp}, **JSON)

        assert response.json() == OK
        assert _count(org, FormSubmission) == 0

    def test_a_post_after_the_minimum_is_accepted_and_remembers_the_embed(
        self, post, org, lead_form, valid_post
    ):
        stamp = spam.render_stamp(form_id=lead_form.pk, embed="iframe", now=time.time() - 10)

        post(lead_form, {**valid_post, "lt_ts": stamp}, **JSON)

        with tenant_context(org):
            [submission] = FormSubmission.objects.all()
        assert submission.embed == "iframe"
        assert submission.status == SubmissionStatus.CREATED

    def test_a_forged_stamp_is_dropped(self, post, org, lead_form, valid_post):
        response = post(lead_form, {**valid_post, "lt_ts": "eyJmIjoxLCJ0IjoxfQ:forged:signature"}, **JSON)

        assert response.json() == OK
        assert _count(org, FormSubmission) == 0

    def test_a_stamp_of_another_form_is_dropped(self, post, org, lead_form, valid_post):
        other = make_form(org, name="Other")
        stamp = spam.render_stamp(form_id=other.pk, embed="script", now=time.time() - 60)

        post(lead_form, {**valid_post, "lt_ts": stamp}, **JSON)

        assert _count(org, FormSubmission) == 0

    def test_the_embed_page_and_the_script_carry_a_stamp_and_the_plain_snippet_none(
        self, client, login, alice, lead_form
    ):
        assert 'name="lt_ts"' in client.get(f"/f/{lead_form.key}/embed").content.decode()
        assert '"stamp": "' in client.get(f"/f/{lead_form.key}.js").content.decode()
        detail = login(alice).get(f"/o/acme/forms/{lead_form.pk}/").content.decode()
        assert "lt_ts" not in detail
        assert "lt_hp" in detail


class TestRateLimits:
    @override_settings(WEBFORMS_RATE_LIMITS={"ip": "2/min", "form": "100/min"})
    def test_a_third_post_from_one_ip_within_a_minute_is_429(self, post, org, lead_form, valid_post):
        answers = [
            post(
                lead_form,
                {**valid_post, "email": f"p{n}@initech.example"},
                REMOTE_ADDR="198.51.100.7",
                **JSON,
            )
            for n in range(3)
        ]

        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].json() == {
            "errors": {"__all__": ["Too many submissions. Please try again in a minute."]}
        }
        assert 1 <= int(answers[2]["Retry-After"]) <= 61
        assert _count(org, FormSubmission) == 2
        # Another address is not held back by the first one's limit.
        assert post(lead_form, valid_post, REMOTE_ADDR="198.51.100.8", **JSON).status_code == 200

    @override_settings(WEBFORMS_RATE_LIMITS={"ip": "100/min", "form": "3/min"})
    def test_a_form_over_its_limit_is_429_whatever_the_ip(self, post, org, lead_form, valid_post):
        codes = [
            post(
                lead_form,
                {**valid_post, "email": f"p{n}@initech.example"},
                REMOTE_ADDR=f"192.0.2.{n}",
                **JSON,
            ).status_code
            for n in range(4)
        ]

        assert codes == [200, 200, 200, 429]
        other = make_form(org, name="Other form")
        assert post(other, valid_post, REMOTE_ADDR="192.0.2.99", **JSON).status_code == 200

    @override_settings(
        WEBFORMS_RATE_LIMITS={"ip": "1/min", "form": "1/min"},
        REDIS_URL="redis://127.0.0.1:1/0",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    def test_when_redis_is_down_posts_are_accepted_and_stored(self, post, org, lead_form, valid_post):
        codes = [
            post(lead_form, {**valid_post, "email": f"p{n}@initech.example"}, **JSON).status_code
            for n in range(3)
        ]

        assert codes == [200, 200, 200]
        with tenant_context(org):
            # Not enqueued (the broker is the same Redis): left pending for the sweeper.
            assert list(FormSubmission.objects.values_list("status", flat=True)) == ["pending"] * 3


class TestDuplicates:
    def test_a_known_person_gets_the_same_answer_and_an_activity_on_their_lead(
        self, post, org, lead_form, valid_post
    ):
        existing = make_lead(org, company="Initech Corp", email="jane@initech.example", contact_name="J. Roe")

        response = post(lead_form, valid_post, **JSON)

        assert response.json() == OK
        with tenant_context(org):
            assert Lead.objects.count() == 1
            existing.refresh_from_db()
            [activity] = Activity.objects.filter(lead=existing, kind=ActivityKind.WEB_FORM)
            [submission] = FormSubmission.objects.all()
        assert existing.company == "Initech Corp"  # the form does not overwrite the lead
        assert "Company: Initech" in activity.body
        assert activity.utm_campaign == "cert"
        assert (submission.status, submission.lead_id) == (SubmissionStatus.MATCHED, existing.pk)

    def test_a_plain_post_by_a_known_person_is_redirected_like_a_new_one(
        self, post, org, lead_form, valid_post
    ):
        new = post(lead_form, valid_post)
        again = post(lead_form, valid_post)

        assert (new.status_code, new["Location"]) == (again.status_code, again["Location"])
        assert _count(org, Lead) == 1
        with tenant_context(org):
            assert Activity.objects.filter(kind=ActivityKind.WEB_FORM).count() == 2


class TestDoubleOptIn:
    @pytest.fixture
    def opt_in_form(self, org):
        return make_form(org, double_opt_in=True)

    def test_the_lead_waits_for_the_confirmation_link(
        self, client, post, org, opt_in_form, valid_post, settings
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

        response = post(opt_in_form, valid_post, **JSON)

        assert response.json()["message"].startswith("Almost done: we sent you an e-mail.")
        assert _count(org, Lead) == 0
        with tenant_context(org):
            [submission] = FormSubmission.objects.all()
        assert submission.status == SubmissionStatus.AWAITING_CONFIRMATION
        [message] = mail.outbox
        assert message.to == ["jane@initech.example"]
        link = next(line for line in message.body.splitlines() if "/f/confirm/" in line)
        path = link.split("://", 1)[1].split("/", 1)[1]

        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            confirmed = client.get("/" + path)

        assert confirmed.status_code == 200
        assert "your e-mail address is confirmed" in confirmed.content.decode()
        with tenant_context(org):
            submission.refresh_from_db()
            [lead] = Lead.objects.all()
            activity = Activity.objects.get(lead=lead)
        assert submission.status == SubmissionStatus.CREATED
        assert submission.confirmed_at is not None
        assert lead.email == "jane@initech.example"
        assert "E-mail confirmed at" in activity.body

    def test_a_known_person_gets_the_same_answer_before_confirming(
        self, post, org, opt_in_form, valid_post, settings
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        make_lead(org, email="jane@initech.example")

        new_person = post(opt_in_form, {**valid_post, "email": "new@initech.example"}, **JSON)
        known_person = post(opt_in_form, valid_post, **JSON)

        assert new_person.json() == known_person.json()
        assert len(mail.outbox) == 2

    def test_a_tampered_link_is_refused(self, client):
        response = client.get("/f/confirm/eyJvIjoxLCJzIjoxfQ:1xWHIu:tampered")

        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()

    def test_double_opt_in_needs_a_required_e_mail_field(self, org):
        from django.core.exceptions import ValidationError

        fields = [{"name": "company", "label": "Company", "required": True, "custom": False}]
        with pytest.raises(ValidationError) as caught:
            make_form(org, fields=fields, double_opt_in=True)
        assert caught.value.message_dict == {
            "double_opt_in": ["Double opt-in needs a required e-mail field."]
        }


def test_a_form_re_rendered_with_errors_keeps_its_render_stamp(post, lead_form, valid_post):
    stamp = spam.render_stamp(form_id=lead_form.pk, embed="iframe", now=time.time() - 10)

    response = post(lead_form, {**valid_post, "email": "", "lt_ts": stamp})

    assert response.status_code == 400
    assert f'name="lt_ts" value="{stamp}"' in response.content.decode()
