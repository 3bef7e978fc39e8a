"""A contact form for the demo organization ``robotix`` (idempotent), seeded by ``seed_demo``."""

from __future__ import annotations

from capture.forms.models import LeadForm
from capture.forms.services import form_save
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

DEMO_ORGANIZATION = "robotix"
DEMO_FORM_NAME = "Request a demo"
DEMO_FIELDS = [
    {"name": "contact_name", "label": "Your name", "required": True, "custom": False},
    {"name": "email", "label": "Work e-mail", "required": True, "custom": False},
    {"name": "company", "label": "Company", "required": True, "custom": False},
    {"name": "employees", "label": "Number of employees", "required": False, "custom": False},
    {"name": "robot_model", "label": "Which robot are you interested in?", "required": False, "custom": True},
    {"name": "notes", "label": "Anything else?", "required": False, "custom": False},
]
DEMO_CONSENT = "Robotix may contact me about my request. Privacy policy: robotix.example/privacy."
DEMO_THANKS = "Thank you! A Robotix specialist will contact you within one working day."


def seed_demo_forms() -> int:
    """Create the demo form unless it exists; returns how many were created (0 or 1)."""
    organization = Organization.objects.filter(slug=DEMO_ORGANIZATION).first()
    if organization is None:
        return 0
    with tenant_context(organization):
        if LeadForm.objects.filter(organization=organization, name=DEMO_FORM_NAME).exists():
            return 0
        form_save(
            org=organization,
            actor=None,
            data={
                "name": DEMO_FORM_NAME,
                "fields": DEMO_FIELDS,
                "submit_label": "Request a demo",
                "consent_enabled": True,
                "consent_required": True,
                "consent_text": DEMO_CONSENT,
                "thank_you_message": DEMO_THANKS,
                "allowed_origins": ["http://localhost:8080", "http://127.0.0.1:8080"],
            },
        )
    return 1
