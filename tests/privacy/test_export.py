"""G1: subject export (Art. 15/20): complete, schema-checked, this organization only."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest
from django.core.exceptions import ValidationError

from leadtrack.privacy import registry
from leadtrack.privacy.schema import EXPORT_SCHEMA
from leadtrack.privacy.services import subject_export
from leadtrack.tenancy.context import tenant_context
from tests.privacy.conftest import CONSENT, EMAIL, IP_PREFIX, NAME, OLD_EMAIL, OLD_PHONE, PHONE, VISITOR_ID

EXPECTED_COUNTS = {
    "tenancy.invitations": 1,
    "referrals.referrals": 1,
    "referrals.partner_contacts": 1,
    "api.webhook_deliveries": 1,
    "api.idempotency_records": 1,
    "imports.import_rows": 1,
    "imports.import_row_errors": 1,
    # A (live), B (deleted, same address), C (merged into A).
    "leads.leads": 3,
    # B's deletion, A's phone change, the merge of C into A.
    "leads.changes": 3,
    "leads.activities": 1,
    # Creation of A, B and C (C's moved to A by the merge), A → MQL.
    "leads.stage_transitions": 4,
    "leads.saved_views": 1,
    "leads.consents": 1,
    # The submission that became lead A, and the pending one posted with the old address.
    "forms.submissions": 2,
    "tracking.visitors": 1,
    "tracking.page_views": 2,
    # Delivered and opened (lead A), and a click to the old address that matched no lead.
    "email_events.email_events": 3,
}


def test_every_holder_of_the_project_is_registered():
    assert [holder.name for holder in registry.holders()] == [
        "tenancy",
        "referrals",
        "api",
        "imports",
        "forms",
        "tracking",
        "email_events",
        "leads",
    ]


def test_it_exports_every_record_of_the_subject_and_nothing_of_another_organization(org, other_org, world):
    started = time.monotonic()
    with tenant_context(org):
        document = subject_export(org=org, email="  Jane.Roe@Subject.example ")
    seconds = time.monotonic() - started

    jsonschema.validate(document, EXPORT_SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["counts"] == EXPECTED_COUNTS
    assert document["total_records"] == 28
    assert document["subject"] == {
        "email": EMAIL,
        "lead_ids": sorted([world.lead_a, world.lead_b, world.lead_c]),
    }

    records = document["holders"]
    leads = {row["id"]: row for row in records["leads"]["records"]["leads"]}
    assert leads[world.lead_a]["phone"] == PHONE and leads[world.lead_a]["notes"] == f"{NAME} prefers calls."
    assert leads[world.lead_b]["deleted_at"] is not None
    assert leads[world.lead_c]["merged_into_id"] == world.lead_a
    phone_change = [c for c in records["leads"]["records"]["changes"] if "phone" in c["changes"]]
    assert phone_change[0]["changes"]["phone"] == [OLD_PHONE, PHONE]
    assert records["leads"]["records"]["activities"][0]["body"] == f"{EMAIL} wrote: call me on {PHONE}"
    assert records["referrals"]["records"]["referrals"][0]["notes"] == f"Met {NAME} at a fair."
    assert records["imports"]["records"]["import_rows"][0]["cells"] == ["Initech", NAME, EMAIL, PHONE]
    submission = records["forms"]["records"]["submissions"][0]
    assert (submission["lead_data"]["phone"], submission["custom_data"], submission["ip_prefix"]) == (
        PHONE,
        {"message": "Please call me after five."},
        IP_PREFIX,
    )
    assert (submission["consent_given"], submission["consent_text"]) == (True, CONSENT)
    assert {row["visitor_id"] for row in records["tracking"]["records"]["page_views"]} == {VISITOR_ID}
    assert {row["recipient"] for row in records["email_events"]["records"]["email_events"]} == {
        EMAIL,
        OLD_EMAIL,
    }

    # Globex holds the same address, name and phone: none of its records is in Acme's answer.
    text = json.dumps(document)
    assert world.globex_lead not in leads
    assert "Globex" not in text and "Sam Other" not in text
    with tenant_context(other_org):
        globex = subject_export(org=other_org, email=EMAIL)
    assert globex["subject"]["lead_ids"] == [world.globex_lead]
    assert globex["total_records"] == 2  # the lead and its creation transition
    print(
        f"\n[G1] records={document['total_records']} holders={len(records)} leads={len(leads)} "
        f"seconds={seconds:.3f} other_org_records_in_export=0"
    )


def test_it_refuses_an_invalid_address(org):
    with tenant_context(org), pytest.raises(ValidationError) as caught:
        subject_export(org=org, email="not-an-address")
    assert caught.value.message_dict == {"email": ["Enter a valid e-mail address."]}


def test_an_unknown_address_gets_an_empty_complete_document(org):
    with tenant_context(org):
        document = subject_export(org=org, email="nobody@nowhere.example")
    jsonschema.validate(document, EXPORT_SCHEMA)
    assert document["total_records"] == 0
    assert set(document["counts"]) == set(EXPECTED_COUNTS)
