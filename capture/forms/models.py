"""Embeddable lead forms and the submissions posted to them.

A ``LeadForm`` is public through its ``key`` (an unguessable token in the embed
snippets). Like an API key, the form is found from its key before any
organization is active: migration 0002 adds a read-only row-level security
policy that shows the one row whose key equals the transaction-local
``app.form_key`` (see ``selectors.form_for_key``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from leads.models import Campaign, Lead, Source
from leadtrack.tenancy.models import TenantModel

# The transaction-local setting through which a public request looks up the form it posts to.
FORM_KEY_LOOKUP_SETTING = "app.form_key"


def new_form_key() -> str:
    # 192 random bits, URL-safe: [-_A-Za-z0-9]{32}, so it fits <slug:key> routes.
    return secrets.token_urlsafe(24)


class LeadForm(TenantModel):
    """A form built in the browser. ``fields`` is the ordered field list the builder saves:
    ``[{"name": "email", "label": "Work e-mail", "required": true, "custom": false}, ...]``;
    a non-custom name is a lead field, a custom one is kept on the submission and shown in
    the form-data block of the lead's web_form activity."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=64, unique=True, default=new_form_key, editable=False)
    is_active = models.BooleanField(default=True)
    fields = models.JSONField(default=list)
    submit_label = models.CharField(max_length=60, default="Send")
    consent_enabled = models.BooleanField(default=False)
    consent_required = models.BooleanField(default=True)
    consent_text = models.CharField(max_length=1000, blank=True)
    thank_you_message = models.CharField(max_length=1000, default="Thank you! We will be in touch soon.")
    redirect_url = models.URLField(max_length=500, blank=True)
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Sites (scheme://host[:port]) that may embed the form with the script tag or an iframe.
    allowed_origins = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    double_opt_in = models.BooleanField(default=False)
    # Spam: a form rendered by us (script, iframe) must not come back sooner than this.
    min_seconds_to_submit = models.PositiveSmallIntegerField(default=3)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"], name="leadform_org_name_idx")]

    def __str__(self) -> str:
        return self.name


class SubmissionStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", "Awaiting e-mail confirmation"
    PENDING = "pending", "Pending"
    CREATED = "created", "New lead"
    MATCHED = "matched", "Existing lead"
    FAILED = "failed", "Failed"


class FormSubmission(TenantModel):
    """One accepted post, stored before anything else happens (durability): the processing
    task, or the sweeper when the broker was down, turns it into a lead or an activity."""

    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, related_name="submissions")
    status = models.CharField(
        max_length=24, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    # Values of the fields mapped to lead fields, and of the custom fields, as posted (validated).
    lead_data = models.JSONField(default=dict)
    custom_data = models.JSONField(default=dict)
    # Consent as given: the exact wording shown beside the checkbox at the time.
    consent_given = models.BooleanField(default=False)
    consent_text = models.CharField(max_length=1000, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    # Truncated before storage: IPv4 /24, IPv6 /48.
    ip_prefix = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    embed = models.CharField(max_length=10, blank=True)  # html, script, iframe
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [
            models.Index(
                models.F("organization"),
                models.F("form"),
                models.F("created_at").desc(),
                name="formsub_org_form_idx",
            ),
            # The sweeper's scan: only the few rows still waiting are indexed.
            models.Index(
                fields=["organization", "created_at"],
                condition=models.Q(status__in=["pending", "awaiting_confirmation"]),
                name="formsub_org_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} of form {self.form_id} ({self.status})"
