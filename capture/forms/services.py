"""Writes of the lead forms: the builder's saves, and a submission's life.

A submission's life: ``submission_receive`` validates the post and stores it (PostgreSQL
first: durable whatever Redis and the workers are doing), then enqueues its processing
after commit; ``submission_process`` (task, or the sweeper for anything left pending)
turns it into a lead through ``leads.services.lead_create``, or, when the person exists,
into a web_form activity on the existing lead. With double opt-in the submission waits
(``awaiting_confirmation``) until the person follows the signed link e-mailed to them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_countries import countries

from capture import signals as capture_signals
from capture.forms import fields as catalog
from capture.forms.models import FormSubmission, LeadForm, SubmissionStatus
from leads.models import ActivityKind, ChannelType, Source, Via, http_url_validator
from leads.services import ConsentGiven, DuplicateLeadError, activity_log, lead_consent_record, lead_create
from leadtrack.accounts.models import User
from leadtrack.tenancy.models import Organization

logger = logging.getLogger(__name__)

WEB_FORM_SOURCE_NAME = "Web form"
CONFIRM_SALT = "webforms.confirm"
CONFIRM_MAX_AGE = timedelta(days=7)
# The sweeper leaves a fresh submission to its own task for this long.
SWEEP_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 5
_TRUE = frozenset({"on", "true", "1", "yes", "y", "checked"})


# --- the builder ---------------------------------------------------------------------------


def web_form_source(*, org: Organization) -> Source:
    """The source new leads of a form are filed under when the form names none."""
    source = Source.objects.filter(organization=org, name__iexact=WEB_FORM_SOURCE_NAME).first()
    if source is None:
        source = Source.objects.create(
            organization=org, name=WEB_FORM_SOURCE_NAME, channel_type=ChannelType.WEB_FORM, is_inbound=True
        )
    return source


def normalize_origin(value: str) -> str:
    """``https://www.example.com/contact`` → ``https://www.example.com``; raises ValidationError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"“{value}” is not a site origin (https://host[:port]).")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _validate_form(*, org: Organization, form: LeadForm) -> None:
    errors: dict[str, list[str]] = {}
    names = [entry["name"] for entry in form.fields]
    if len(names) != len(set(names)):
        errors.setdefault("fields", []).append("Two fields have the same name.")
    required = {entry["name"] for entry in form.fields if entry.get("required") and not entry.get("custom")}
    if not required & catalog.IDENTITY_FIELDS:
        errors.setdefault("fields", []).append(
            "Make at least one of name, e-mail or company a required field: a lead needs one of them."
        )
    if form.double_opt_in and "email" not in required:
        errors.setdefault("double_opt_in", []).append("Double opt-in needs a required e-mail field.")
    if form.consent_enabled and not form.consent_text.strip():
        errors.setdefault("consent_text", []).append("Write the consent text shown beside the checkbox.")
    for name in ("source", "campaign"):
        related = getattr(form, name)
        if related is not None and related.organization_id != org.pk:
            errors.setdefault(name, []).append("Unknown choice.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def form_save(
    *, org: Organization, actor: User | None, form: LeadForm | None = None, data: Mapping[str, Any]
) -> LeadForm:
    """Create (``form=None``) or update a form from the builder's cleaned data.

    ``data["fields"]`` is the ordered field list; origins are normalized; a form without a
    source files its leads under the "Web form" source (channel type web_form).
    Raises ValidationError with field errors.
    """
    form = form or LeadForm(organization=org, created_by=actor)
    for name, value in data.items():
        setattr(form, name, value)
    form.allowed_origins = sorted(
        {normalize_origin(origin) for origin in form.allowed_origins if origin.strip()}
    )
    if form.source is None:
        form.source = web_form_source(org=org)
    _validate_form(org=org, form=form)
    form.full_clean(exclude=["organization", "created_by", "fields", "allowed_origins"])
    form.save()
    return form


# --- a post ------------------------------------------------------------------------------


@dataclass
class CleanPost:
    lead_data: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, str] = field(default_factory=dict)
    consent_given: bool = False
    tracking: dict[str, str] = field(default_factory=dict)


def _too_long(limit: int) -> str:
    return f"Ensure this value has at most {limit} characters."


def _clean_lead_value(name: str, value: str) -> Any:
    """A lead field's posted text → the value lead_create takes; raises ValidationError."""
    spec = catalog.LEAD_FIELDS_BY_NAME[name]
    if len(value) > spec.max_length:
        raise ValidationError(_too_long(spec.max_length))
    if name == "email":
        validate_email(value)
        return value.lower()
    if name == "employees":
        if not value.isdigit() or int(value) > 10_000_000:
            raise ValidationError("Enter a whole number.")
        return int(value)
    if name == "website":
        url = value if "//" in value else f"https://{value}"
        http_url_validator(url)
        return url
    if name == "country":
        code = value.upper() if value.upper() in dict(countries) else countries.by_name(value)
        if not code:
            raise ValidationError("Unknown country.")
        return code
    return value


def _clean_tracking(values: Mapping[str, str]) -> dict[str, str]:
    """Hidden fields come from the visitor's browser: cut to size, never an error for the visitor."""
    tracking = {
        name: (values.get(name) or "").strip()[:limit] for name, limit in catalog.TRACKING_FIELDS.items()
    }
    if tracking["page_url"]:
        try:
            http_url_validator(tracking["page_url"])
        except ValidationError:
            tracking["page_url"] = ""
    return tracking


def submission_validate(*, form: LeadForm, values: Mapping[str, str]) -> CleanPost:
    """The shape of a post: known names only, required fields, sizes, formats, consent.

    ``values`` maps each posted name to its text. Raises ValidationError with one error per
    field ("__all__" for the post as a whole). The same rules for every embed.
    """
    errors: dict[str, list[str]] = {}
    known = {entry["name"]: entry for entry in form.fields}
    for name in values:
        # A lead field the form does not ask for is as unknown as a made-up name.
        if name not in known and (name not in catalog.RESERVED_NAMES or name in catalog.LEAD_FIELDS_BY_NAME):
            errors[name] = ["Unknown field."]
    post = CleanPost()
    for name, entry in known.items():
        value = (values.get(name) or "").strip()
        if not value:
            if entry.get("required"):
                errors[name] = ["This field is required."]
            continue
        try:
            if entry.get("custom"):
                if len(value) > catalog.CUSTOM_FIELD_MAX_LENGTH:
                    raise ValidationError(_too_long(catalog.CUSTOM_FIELD_MAX_LENGTH))
                post.custom_data[name] = value
            else:
                post.lead_data[name] = _clean_lead_value(name, value)
        except ValidationError as exc:
            errors[name] = exc.messages
    if form.consent_enabled:
        post.consent_given = (values.get(catalog.CONSENT_FIELD) or "").strip().lower() in _TRUE
        if form.consent_required and not post.consent_given:
            errors[catalog.CONSENT_FIELD] = ["Please give your consent to send this form."]
    elif values.get(catalog.CONSENT_FIELD):
        errors[catalog.CONSENT_FIELD] = ["Unknown field."]
    if errors:
        raise ValidationError(errors)
    post.tracking = _clean_tracking(values)
    return post


def _enqueue(send: Callable[[], Any], what: str) -> None:
    """Publish a task; a broker that is down is logged, never raised: the row is stored and the
    sweeper picks it up within minutes."""
    try:
        send()
    except Exception as exc:
        logger.warning("%s not enqueued (broker unavailable?): %s; the sweeper will process it", what, exc)


def _enqueue_processing(*, org: Organization, submission: FormSubmission) -> None:
    from capture.forms.tasks import submission_process_task

    _enqueue(
        lambda: submission_process_task.apply_async(
            kwargs={"organization_id": org.pk, "submission_id": submission.pk}, retry=False
        ),
        f"submission {submission.pk}",
    )


def _enqueue_confirmation(*, org: Organization, submission: FormSubmission) -> None:
    from capture.forms.tasks import submission_confirmation_send_task

    _enqueue(
        lambda: submission_confirmation_send_task.apply_async(
            kwargs={"organization_id": org.pk, "submission_id": submission.pk}, retry=False
        ),
        f"confirmation of submission {submission.pk}",
    )


@transaction.atomic
def submission_receive(
    *,
    org: Organization,
    form: LeadForm,
    values: Mapping[str, str],
    ip_prefix: str | None,
    user_agent: str,
    embed: str,
    enqueue: bool = True,
    now: datetime | None = None,
) -> FormSubmission:
    """Validate a post (ValidationError → field errors) and store it; processing is enqueued
    after commit (or the e-mail confirmation, with double opt-in). ``enqueue=False`` (the
    broker is known to be down) leaves it to the sweeper."""
    post = submission_validate(form=form, values=values)
    tracking = post.tracking
    submission = FormSubmission.objects.create(
        organization=org,
        form=form,
        status=SubmissionStatus.AWAITING_CONFIRMATION if form.double_opt_in else SubmissionStatus.PENDING,
        lead_data=post.lead_data,
        custom_data=post.custom_data,
        consent_given=post.consent_given,
        consent_text=form.consent_text if form.consent_enabled else "",
        visitor_id=tracking[catalog.VISITOR_FIELD],
        page_url=tracking["page_url"],
        referrer=tracking["referrer"],
        **{name: tracking[name] for name in catalog.UTM_FIELDS},
        ip_prefix=ip_prefix,
        user_agent=user_agent[:300],
        embed=embed,
        created_at=now or timezone.now(),
    )
    if not enqueue:
        logger.warning(
            "submission %s stored without enqueueing (broker down); the sweeper will", submission.pk
        )
    elif form.double_opt_in:
        transaction.on_commit(lambda: _enqueue_confirmation(org=org, submission=submission))
    else:
        transaction.on_commit(lambda: _enqueue_processing(org=org, submission=submission))
    return submission


# --- double opt-in -----------------------------------------------------------------------


def confirmation_token(*, submission: FormSubmission) -> str:
    return signing.dumps({"o": submission.organization_id, "s": submission.pk}, salt=CONFIRM_SALT)


def confirmation_read(*, token: str) -> tuple[int, int] | None:
    """(organization id, submission id) of a valid, unexpired confirmation link, else None.

    The link is signed with the secret key, so it may name its organization: nobody can
    write one for a submission they did not receive.
    """
    try:
        value = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("o"), int)
        or not isinstance(value.get("s"), int)
    ):
        return None
    return value["o"], value["s"]


@transaction.atomic
def submission_confirmation_send(
    *, org: Organization, submission_id: int, now: datetime | None = None
) -> FormSubmission:
    """E-mail the confirmation link once (idempotent: a sent confirmation is not sent again)."""
    submission = (
        FormSubmission.objects.select_for_update(of=("self",))
        .select_related("form")
        .get(organization=org, pk=submission_id)
    )
    if submission.status != SubmissionStatus.AWAITING_CONFIRMATION or submission.confirmation_sent_at:
        return submission
    link = settings.SITE_URL.rstrip("/") + reverse(
        "webforms_confirm", kwargs={"token": confirmation_token(submission=submission)}
    )
    send_mail(
        subject=f"Please confirm your request to {org.name}",
        message=(
            f"You sent the form “{submission.form.name}” to {org.name}.\n\n"
            f"Please confirm your e-mail address by opening this link:\n{link}\n\n"
            "If this was not you, ignore this message: nothing will be kept."
        ),
        from_email=None,
        recipient_list=[submission.lead_data["email"]],
    )
    submission.confirmation_sent_at = now or timezone.now()
    submission.save(update_fields=["confirmation_sent_at"])
    return submission


@transaction.atomic
def submission_confirm(
    *, org: Organization, submission_id: int, now: datetime | None = None
) -> FormSubmission:
    """The person followed the link: the submission is processed like any other (idempotent)."""
    submission = FormSubmission.objects.select_for_update().get(organization=org, pk=submission_id)
    if submission.status != SubmissionStatus.AWAITING_CONFIRMATION:
        return submission
    submission.status = SubmissionStatus.PENDING
    submission.confirmed_at = now or timezone.now()
    submission.save(update_fields=["status", "confirmed_at"])
    transaction.on_commit(lambda: _enqueue_processing(org=org, submission=submission))
    return submission


# --- processing ----------------------------------------------------------------------------


def _form_data_block(*, form: LeadForm, submission: FormSubmission) -> str:
    """The submission as the lead's timeline shows it: every answer, then the consent given."""
    lines = []
    for entry in form.fields:
        name = entry["name"]
        value = submission.custom_data.get(name) if entry.get("custom") else submission.lead_data.get(name)
        if value not in (None, ""):
            lines.append(f"{entry.get('label') or name}: {value}")
    if submission.consent_text:
        answer = "given" if submission.consent_given else "not given"
        lines.append(f"Consent {answer}: “{submission.consent_text}”")
    if submission.confirmed_at:
        lines.append(f"E-mail confirmed at {submission.confirmed_at:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)


@transaction.atomic
def submission_process(
    *, org: Organization, submission_id: int, now: datetime | None = None
) -> FormSubmission:
    """Turn a pending submission into a lead (or an activity on the lead it matches).

    Idempotent: the row is locked and only a pending one is processed, so the task, its
    retries and the sweeper may all run it. New leads go through ``lead_create``
    (via=form: dedupe, routing, scoring and webhooks follow from it); a duplicate logs a
    web_form activity on the existing lead instead, and nothing of it is overwritten. A
    lead the rules refuse marks the submission failed with the reason.
    """
    submission = (
        FormSubmission.objects.select_for_update(of=("self",))
        .select_related("form", "form__source", "form__campaign")
        .get(organization=org, pk=submission_id)
    )
    if submission.status != SubmissionStatus.PENDING:
        return submission
    form = submission.form
    data: dict[str, Any] = dict(submission.lead_data)
    data["source"] = form.source or web_form_source(org=org)
    if form.campaign is not None:
        data["campaign"] = form.campaign
    consent = None
    if submission.consent_given and submission.consent_text:
        where = f" on {submission.page_url}" if submission.page_url else ""
        consent = ConsentGiven(
            text=submission.consent_text, at=submission.created_at, source=f"Web form “{form.name}”{where}"
        )
    try:
        lead = lead_create(
            org=org, actor=None, data=data, via=Via.FORM, created_at=submission.created_at, consent=consent
        )
        submission.status = SubmissionStatus.CREATED
    except DuplicateLeadError as exc:
        lead = exc.existing
        submission.status = SubmissionStatus.MATCHED
        if consent is not None:
            lead_consent_record(org=org, lead_id=lead.pk, consent=consent, via=Via.FORM)
    except ValidationError as exc:
        submission.status = SubmissionStatus.FAILED
        submission.error = "; ".join(exc.messages)[:500]
        submission.processed_at = now or timezone.now()
        submission.save(update_fields=["status", "error", "processed_at"])
        return submission
    activity_log(
        org=org,
        actor=None,
        lead_id=lead.pk,
        kind=ActivityKind.WEB_FORM,
        occurred_at=submission.created_at,
        via=Via.FORM,
        subject=f"Web form: {form.name}"[:300],
        body=_form_data_block(form=form, submission=submission),
        url=submission.page_url,
        referrer_url=submission.referrer,
        **{name: getattr(submission, name) for name in catalog.UTM_FIELDS},
    )
    submission.lead = lead
    submission.processed_at = now or timezone.now()
    submission.error = ""
    submission.save(update_fields=["status", "lead", "processed_at", "error"])
    if submission.visitor_id:
        transaction.on_commit(
            lambda: capture_signals.visitor_identified.send(
                sender=FormSubmission,
                organization_id=org.pk,
                lead_id=lead.pk,
                visitor_id=submission.visitor_id,
                via=Via.FORM,
            )
        )
    return submission


def submission_attempt_failed(*, org: Organization, submission_id: int, error: str) -> None:
    """Record a processing failure (its own transaction: the failed one rolled back); after
    MAX_ATTEMPTS the submission is marked failed instead of being swept forever."""
    with transaction.atomic():
        submission = FormSubmission.objects.select_for_update().get(organization=org, pk=submission_id)
        if submission.status != SubmissionStatus.PENDING:
            return
        submission.attempts += 1
        submission.error = error[:500]
        if submission.attempts >= MAX_ATTEMPTS:
            submission.status = SubmissionStatus.FAILED
        submission.save(update_fields=["attempts", "error", "status"])


def submissions_due(*, org: Organization, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """What the sweeper owes this organization: (pending submissions older than a minute,
    double opt-ins whose confirmation e-mail was never sent)."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    waiting = FormSubmission.objects.filter(organization=org, created_at__lt=cutoff)
    pending = waiting.filter(status=SubmissionStatus.PENDING).order_by("created_at")
    unsent = waiting.filter(status=SubmissionStatus.AWAITING_CONFIRMATION, confirmation_sent_at__isnull=True)
    return list(pending.values_list("pk", flat=True)[:500]), list(unsent.values_list("pk", flat=True)[:500])
