"""Fixtures of the lead-form tests: a contact form of Acme's, and a post helper."""

from __future__ import annotations

import pytest

from capture.forms.services import form_save
from leadtrack.tenancy.context import tenant_context

CONSENT = "I agree that Acme stores my details to answer me (privacy policy at acme.example/privacy)."

CONTACT_FIELDS = [
    {"name": "contact_name", "label": "Your name", "required": False, "custom": False},
    {"name": "email", "label": "Work e-mail", "required": True, "custom": False},
    {"name": "company", "label": "Company", "required": False, "custom": False},
    {"name": "employees", "label": "Employees", "required": False, "custom": False},
    {"name": "budget", "label": "Budget", "required": False, "custom": True},
]


def make_form(org, **overrides):
    data = {
        "name": "Contact us",
        "fields": CONTACT_FIELDS,
        "consent_enabled": True,
        "consent_required": True,
        "consent_text": CONSENT,
        "thank_you_message": "Thanks, we will call you.",
        "min_seconds_to_submit": 3,
        **overrides,
    }
    with tenant_context(org):
        return form_save(org=org, actor=None, data=data)


@pytest.fixture
def lead_form(org):
    return make_form(org)


@pytest.fixture
def valid_post():
    return {
        "contact_name": "Jane Roe",
        "email": "jane@initech.example",
        "company": "Initech",
        "budget": "10k",
        "consent": "yes",
        "utm_source": "partner",
        "utm_medium": "referral",
        "utm_campaign": "cert",
        "page_url": "https://www.acme.example/contact?utm_source=partner",
        "referrer": "https://partner.example/blog",
        "lt_vid": "v-123",
    }
