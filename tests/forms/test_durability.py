"""A submission is stored first and processed later: with the worker stopped, with the broker
down, by the task or by the sweeper, once."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db.models import F

from capture.forms import services, tasks
from capture.forms.models import FormSubmission, SubmissionStatus
from leads.models import Activity, Lead
from leadtrack.celery import app as celery_app
from leadtrack.tenancy.context import tenant_context

JSON = {"HTTP_ACCEPT": "application/json"}
DEAD_BROKER = "redis://127.0.0.1:1/0"


@contextlib.contextmanager
def worker_stopped():
    """Tasks go to the real broker (Redis) and nobody consumes them; the queue is emptied after."""
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")


def _reset_broker_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_down():
    """The broker URL points at a closed port: publishing fails (the rate-limit Redis stays up)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = DEAD_BROKER
    _reset_broker_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        celery_app.conf.task_always_eager = True
        _reset_broker_pools()


def _age(org, minutes: int) -> None:
    """Time passes: the stored submissions were received ``minutes`` ago."""
    with tenant_context(org):
        FormSubmission.objects.update(created_at=F("created_at") - timedelta(minutes=minutes))


def _state(org):
    with tenant_context(org):
        return (
            list(FormSubmission.objects.order_by("pk").values_list("status", flat=True)),
            Lead.objects.count(),
            Activity.objects.count(),
        )


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def _post(form, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/f/{form.key}", data, **extra)

    return _post


def test_it_stores_the_submission_while_the_worker_is_stopped_and_the_sweeper_processes_it(
    post, org, lead_form, valid_post
):
    with worker_stopped():
        response = post(lead_form, valid_post, **JSON)
        queued = redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery")

    assert response.status_code == 200
    assert queued == 1
    assert _state(org) == (["pending"], 0, 0)

    _age(org, 2)
    swept = tasks.submissions_sweep.delay().get()

    assert swept == [org.pk]
    assert _state(org) == (["created"], 1, 1)


def test_it_answers_success_when_the_broker_is_down_and_the_sweeper_catches_up(
    post, org, lead_form, valid_post
):
    with broker_down():
        response = post(lead_form, valid_post, **JSON)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert _state(org) == (["pending"], 0, 0)

    _age(org, 2)
    tasks.submissions_sweep.delay().get()

    assert _state(org) == (["created"], 1, 1)


def test_the_sweeper_leaves_submissions_younger_than_a_minute_to_their_task(post, org, lead_form, valid_post):
    with worker_stopped():
        post(lead_form, valid_post, **JSON)

    assert tasks.submissions_sweep.delay().get() == []
    assert _state(org) == (["pending"], 0, 0)


def test_processing_twice_makes_one_lead_and_one_activity(post, org, lead_form, valid_post):
    with worker_stopped():
        post(lead_form, valid_post, **JSON)
    with tenant_context(org):
        submission = FormSubmission.objects.get()

    first = tasks.submission_process_task.delay(organization_id=org.pk, submission_id=submission.pk).get()
    second = tasks.submission_process_task.delay(organization_id=org.pk, submission_id=submission.pk).get()

    assert (first, second) == ("created", "created")
    assert _state(org) == (["created"], 1, 1)


def test_a_submission_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    post, org, lead_form, valid_post
):
    with worker_stopped():
        post(lead_form, valid_post, **JSON)
    with tenant_context(org):
        submission = FormSubmission.objects.get()
        for _ in range(services.MAX_ATTEMPTS - 1):
            services.submission_attempt_failed(org=org, submission_id=submission.pk, error="boom")
        submission.refresh_from_db()
        assert (submission.status, submission.attempts) == (SubmissionStatus.PENDING, 4)
        services.submission_attempt_failed(org=org, submission_id=submission.pk, error="boom")
        submission.refresh_from_db()
    assert (submission.status, submission.attempts, submission.error) == (SubmissionStatus.FAILED, 5, "boom")


def test_the_sweeper_sends_a_confirmation_that_was_never_sent(client, org, valid_post, settings):
    from django.core import mail

    from tests.forms.conftest import make_form

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    form = make_form(org, double_opt_in=True)
    with broker_down():
        client.post(f"/f/{form.key}", valid_post, **JSON)
    assert mail.outbox == []

    _age(org, 2)
    tasks.submissions_sweep.delay().get()

    assert [m.to for m in mail.outbox] == [["jane@initech.example"]]
    assert _state(org) == (["awaiting_confirmation"], 0, 0)
