"""A data subject spread over every holder, in Acme, and the same address in Globex.

Jane Roe (jane.roe@subject.example, +1 555 0142, formerly +1 555 0199) is in Acme as:
- lead A (live): contact fields, notes, a phone change in its history, a web-form activity
  naming her in subject, body and URL, a move to MQL;
- lead B (soft-deleted earlier, same address);
- lead C ("J. Roe", jane.roe+old@subject.example) merged into A;
- a referral naming her (contact, phone, notes) and a partner whose contact she is;
- a webhook delivery about lead A, an idempotent API response naming her;
- an import file with her row beside Sam's, and a failed import row with her cells;
- an invitation to her address; a saved lead-list search for her address.
Globex has a lead with the same address, name and phone; Acme has Sam, another person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from funnel.services import stage_move
from funnel.stages import Stage
from leads.imports.services import import_job_create
from leads.models import ActivityKind, ImportRowError, SavedView
from leads.services import activity_log, lead_delete, lead_merge, lead_update
from leadtrack.api.models import IdempotencyRecord, WebhookDelivery, WebhookEndpoint, WebhookEvent
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Invitation
from leadtrack.tenancy.roles import Role
from referrals.models import Partner, Program, Referral, ReferrerKind
from tests.factories import make_lead

EMAIL = "jane.roe@subject.example"
OLD_EMAIL = "jane.roe+old@subject.example"
NAME = "Jane Roe"
PHONE = "+1 555 0142"
OLD_PHONE = "+1 555 0199"
ENCODED_EMAIL = "jane.roe%40subject.example"  # as a saved lead-list search keeps it
IDENTIFIERS = (EMAIL, OLD_EMAIL, NAME, PHONE, OLD_PHONE, ENCODED_EMAIL)


@dataclass
class World:
    lead_a: int
    lead_b: int
    lead_c: int
    sam: int
    globex_lead: int
    referral: int
    partner: int
    import_job: int


def build_world(org, other_org, alice, charlie) -> World:
    with tenant_context(org):
        deleted = make_lead(org, actor=alice, company="Initech", contact_name=NAME, email=EMAIL)
        lead_delete(org=org, actor=alice, lead_id=deleted.pk)
        lead_a = make_lead(
            org,
            actor=alice,
            company="Initech",
            contact_name=NAME,
            email=EMAIL,
            phone=OLD_PHONE,
            job_title="CTO",
            notes=f"{NAME} prefers calls.",
        )
        lead_update(org=org, actor=alice, lead_id=lead_a.pk, data={"phone": PHONE})
        activity_log(
            org=org,
            actor=None,
            lead_id=lead_a.pk,
            kind=ActivityKind.WEB_FORM,
            subject=f"Demo request from {NAME}",
            body=f"{EMAIL} wrote: call me on {PHONE}",
            url=f"https://acme.example/contact?email={EMAIL}",
            referrer_url="https://search.example/?q=leadtrack",
            utm_source="newsletter",
        )
        stage_move(org=org, actor=alice, lead_id=lead_a.pk, to_stage=Stage.MQL)
        lead_c = make_lead(org, actor=alice, company="Initech", contact_name="J. Roe", email=OLD_EMAIL)
        lead_merge(org=org, actor=alice, primary_id=lead_a.pk, duplicate_id=lead_c.pk)
        SavedView.objects.create(
            organization=org, name="Jane", owner=alice, query=f"q={ENCODED_EMAIL}&stage=mql", shared=True
        )
        sam = make_lead(
            org, actor=alice, company="Hooli", contact_name="Sam Other", email="sam@other.example"
        )

        program = Program.objects.create(organization=org, name="Employees")
        referral = Referral.objects.create(
            organization=org,
            program=program,
            referrer_kind=ReferrerKind.EMPLOYEE,
            referring_employee=alice,
            lead=lead_a,
            company="Initech",
            contact_name=NAME,
            email=EMAIL,
            phone=PHONE,
            notes=f"Met {NAME} at a fair.",
        )
        partner = Partner.objects.create(
            organization=org, name="Roe Partners", contact_name=NAME, contact_email=EMAIL
        )
        endpoint = WebhookEndpoint.objects.create(
            organization=org,
            url="https://hooks.example/in",
            events=[WebhookEvent.LEAD_CREATED],
            secret="s" * 32,
        )
        WebhookDelivery.objects.create(
            organization=org,
            endpoint=endpoint,
            event=WebhookEvent.LEAD_CREATED,
            payload={"lead": {"id": lead_a.pk, "contact_name": NAME, "email": EMAIL, "phone": OLD_PHONE}},
        )
        WebhookDelivery.objects.create(
            organization=org,
            endpoint=endpoint,
            event=WebhookEvent.LEAD_CREATED,
            payload={"lead": {"id": sam.pk, "contact_name": "Sam Other", "email": "sam@other.example"}},
        )
        IdempotencyRecord.objects.create(
            organization=org,
            key="k-1",
            request_hash="0" * 64,
            status_code=201,
            response_body={"id": 999_999, "contact_name": NAME, "email": EMAIL},
        )
        csv = (
            "Company,Name,Email,Phone\r\n"
            f"Initech,{NAME},{EMAIL},{PHONE}\r\n"
            "Hooli,Sam Other,sam@other.example,+1 555 0000\r\n"
        ).encode()
        job = import_job_create(org=org, actor=alice, file_name="contacts.csv", content=csv)
        ImportRowError.objects.create(
            organization=org, job=job, row_number=1, column="Email", message="Duplicate", raw={"Email": EMAIL}
        )
        Invitation.objects.create(
            organization=org,
            email=EMAIL,
            role=Role.VIEWER,
            token_hash="1" * 64,
            invited_by=alice,
            expires_at=timezone.now() + timedelta(days=7),
        )
    globex = make_lead(
        other_org, actor=charlie, company="Globex Buyer", contact_name=NAME, email=EMAIL, phone=PHONE
    )
    return World(
        lead_a=lead_a.pk,
        lead_b=deleted.pk,
        lead_c=lead_c.pk,
        sam=sam.pk,
        globex_lead=globex.pk,
        referral=referral.pk,
        partner=partner.pk,
        import_job=job.pk,
    )


@pytest.fixture
def world(org, other_org, alice, charlie) -> World:
    return build_world(org, other_org, alice, charlie)
