"""JSON Schema of the subject export (docs/privacy.md shows an example document).

Holders are open-ended (apps register more), so ``holders`` maps any name to the same shape:
a description and ``{record type: [record, ...]}``. The known holders and their record types
are required, so a holder that silently stops exporting fails the schema check.
"""

from __future__ import annotations

from typing import Any

RECORDS = {"type": "array", "items": {"type": "object"}}


def _holder(*record_types: str, items: dict[str, Any] | None = None) -> dict[str, Any]:
    items = items or {}
    return {
        "type": "object",
        "required": ["description", "records"],
        "properties": {
            "description": {"type": "string"},
            "records": {
                "type": "object",
                "required": list(record_types),
                "properties": {
                    kind: {"type": "array", "items": items.get(kind, {"type": "object"})}
                    for kind in record_types
                },
                "additionalProperties": RECORDS,
            },
        },
        "additionalProperties": False,
    }


LEAD = {
    "type": "object",
    "required": [
        "id",
        "company",
        "contact_name",
        "email",
        "phone",
        "notes",
        "stage",
        "created_at",
        "deleted_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "deleted_at": {"type": ["string", "null"]},
        "merged_into_id": {"type": ["integer", "null"]},
    },
}

EXPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "LeadTrack subject export",
    "type": "object",
    "required": ["schema", "generated_at", "organization", "subject", "holders", "counts", "total_records"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "leadtrack.subject-export.v1"},
        "generated_at": {"type": "string"},
        "organization": {
            "type": "object",
            "required": ["slug", "name"],
            "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            "additionalProperties": False,
        },
        "subject": {
            "type": "object",
            "required": ["email", "lead_ids"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "lead_ids": {"type": "array", "items": {"type": "integer"}},
            },
            "additionalProperties": False,
        },
        "holders": {
            "type": "object",
            "required": [
                "leads",
                "referrals",
                "api",
                "imports",
                "tenancy",
                "forms",
                "tracking",
                "email_events",
            ],
            "properties": {
                "leads": _holder(
                    "leads", "changes", "activities", "stage_transitions", "consents", items={"leads": LEAD}
                ),
                "referrals": _holder("referrals", "partner_contacts"),
                "api": _holder("webhook_deliveries", "idempotency_records"),
                "imports": _holder("import_rows", "import_row_errors"),
                "tenancy": _holder("invitations"),
                "forms": _holder("submissions"),
                "tracking": _holder("visitors", "page_views"),
                "email_events": _holder("email_events"),
            },
            "additionalProperties": _holder(),
        },
        "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "total_records": {"type": "integer", "minimum": 0},
    },
}
