"""Personal data held by web forms: submissions (the posted fields, custom answers, the page and
referrer, the visitor id, the truncated IP address and the browser). Registered with the
privacy registry (leadtrack/privacy/registry.py).

Erasure anonymises the rows rather than deleting them: a submission's form, status, times,
consent flag and wording, and UTM tags stay (they are the form's history and the proof of what
the person agreed to); every value the person posted, and what identifies their browser, goes.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast, Concat

from capture.forms.models import FormSubmission
from leadtrack.privacy.registry import REDACTED, Subject, redact_json, register, scrub_text, scrub_url

EXPORT_FIELDS = (
    "id",
    "form__name",
    "status",
    "created_at",
    "confirmed_at",
    "processed_at",
    "lead_id",
    "lead_data",
    "custom_data",
    "consent_given",
    "consent_text",
    "visitor_id",
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ip_prefix",
    "user_agent",
    "embed",
    "error",
)


def _submissions(subject: Subject):
    """Submissions turned into one of the subject's leads, and those (pending, awaiting
    confirmation, failed) whose posted values name the person but have no lead yet."""
    conditions = [Q(lead_id__in=subject.lead_ids)]
    conditions += [Q(posted__icontains=identifier) for identifier in subject.identifiers]
    return (
        FormSubmission.objects.filter(organization=subject.organization)
        .alias(
            posted=Concat(
                Cast("lead_data", TextField()), Cast("custom_data", TextField()), output_field=TextField()
            )
        )
        .filter(reduce(or_, conditions))
    )


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    rows = _submissions(subject).order_by("created_at", "pk").values(*EXPORT_FIELDS)
    return {"submissions": [{**row, "form": row.pop("form__name")} for row in rows]}


def _anonymised_values(row: FormSubmission, subject: Subject) -> dict[str, Any]:
    return {
        "lead_data": redact_json(row.lead_data, subject),
        # Free answers: whatever the person wrote, whether or not it names them.
        "custom_data": {
            key: REDACTED if value not in (None, "") else value for key, value in row.custom_data.items()
        },
        "visitor_id": "",
        "page_url": scrub_url(row.page_url, subject),
        "referrer": scrub_url(row.referrer, subject),
        "ip_prefix": None,
        "user_agent": "",
        "error": scrub_text(row.error, subject.identifiers),
    }


def _erase(subject: Subject) -> dict[str, int]:
    changed = 0
    for row in _submissions(subject).order_by("pk"):
        values = _anonymised_values(row, subject)
        if any(getattr(row, field) != value for field, value in values.items()):
            FormSubmission.objects.filter(organization=subject.organization, pk=row.pk).update(**values)
            changed += 1
    return {"submissions": changed}


register(
    "forms",
    export=_export,
    erase=_erase,
    order=50,
    description=(
        "Web-form submissions: posted fields and custom answers, consent given and its wording, the page "
        "and referrer, the visitor id, the truncated IP address and the browser."
    ),
)
