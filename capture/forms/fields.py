"""What a lead form may contain: the lead fields it can map to, and the names it reserves.

One catalog read by the builder (which fields to offer), the renderers (input type,
size) and the validation of a post (limits): the same rule for all three embeds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LeadFieldSpec:
    name: str
    label: str
    input_type: str  # text, email, tel, url, number, textarea
    max_length: int


LEAD_FIELDS: tuple[LeadFieldSpec, ...] = (
    LeadFieldSpec("contact_name", "Name", "text", 200),
    LeadFieldSpec("email", "E-mail", "email", 254),
    LeadFieldSpec("company", "Company", "text", 200),
    LeadFieldSpec("job_title", "Job title", "text", 200),
    LeadFieldSpec("phone", "Phone", "tel", 50),
    LeadFieldSpec("website", "Website", "url", 300),
    LeadFieldSpec("country", "Country", "text", 60),
    LeadFieldSpec("employees", "Number of employees", "number", 10),
    LeadFieldSpec("notes", "Message", "textarea", 5000),
)
LEAD_FIELDS_BY_NAME = {spec.name: spec for spec in LEAD_FIELDS}

# A lead needs one of these (the lead_has_identity constraint): a form must ask for one, required.
IDENTITY_FIELDS = frozenset({"contact_name", "email", "company"})

CUSTOM_FIELD_MAX_LENGTH = 1000
CUSTOM_FIELD_LIMIT = 10

# Hidden fields every embed carries; the tracking script (capture/tracking) fills the same
# names in any <form data-leadtrack-form>, and our own script fills them itself.
VISITOR_FIELD = "lt_vid"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
TRACKING_FIELDS: dict[str, int] = {
    VISITOR_FIELD: 64,
    **dict.fromkeys(UTM_FIELDS, 200),
    "page_url": 2000,
    "referrer": 2000,
}
CONSENT_FIELD = "consent"
HONEYPOT_FIELD = "lt_hp"  # looks like a field to a bot; hidden from people
RENDER_STAMP_FIELD = "lt_ts"  # signed render time, only in forms we render (script, iframe)

RESERVED_NAMES = frozenset(
    {*LEAD_FIELDS_BY_NAME, *TRACKING_FIELDS, CONSENT_FIELD, HONEYPOT_FIELD, RENDER_STAMP_FIELD}
)
# A whole post larger than this is refused before parsing (the fields' own limits are smaller).
MAX_BODY_BYTES = 64 * 1024


def render_fields(
    form_fields: list[dict], *, values: dict[str, str], errors: dict[str, list[str]]
) -> list[dict]:
    """The form's fields as the renderers need them: name, label, input type, size, value, errors."""
    rendered = []
    for entry in form_fields:
        spec = None if entry.get("custom") else LEAD_FIELDS_BY_NAME.get(entry["name"])
        rendered.append(
            {
                "name": entry["name"],
                "label": entry.get("label") or (spec.label if spec else entry["name"]),
                "required": bool(entry.get("required")),
                "input_type": spec.input_type if spec else entry.get("input_type", "text"),
                "max_length": spec.max_length if spec else CUSTOM_FIELD_MAX_LENGTH,
                "value": values.get(entry["name"], ""),
                "errors": errors.get(entry["name"], []),
            }
        )
    return rendered
