"""A data subject spread over every holder, in Acme, and the same address in Globex.

Jane Roe (jane.roe@subject.example, +1 555 0142, formerly +1 555 0199) is in Acme as:
- lead A (live): contact fields, notes, a phone change in its history, a web-form activity
  naming her in subject, body and URL, a move to MQL;
- lead B (soft-deleted earlier, same address);
- lead C ("J. Roe", jane.roe+old@subject.example) merged into A;
- a referral naming her (contact, phone, notes) and a partner whose contact she is;
- a webhook delivery about lead A, an idempotent API response naming her;
- an import file with her row beside Sam's, and a failed import row with her cells;
- an invitation to her address; a saved lead-list search for her address;
- a web-form submission that became lead A (posted fields, a custom answer, IP prefix, browser,
  a page URL carrying her address), its consent record, and a pending one posted with her old
  address;
- her browser's visitor id identified as lead A, with two page views (one URL names her);
- e-mail events: a delivered and an opened message to her address (matched to lead A), and a
  click to her old address that arrived while no lead had it.
Globex has a lead with the same address, name and phone; Acme has Sam, another person, with
his own page view and e-mail event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from capture.forms.models import FormSubmission, SubmissionStatus
from capture.forms.services import form_save
from capture.tracking.models import PageView, Visitor
from capture.tracking.services import site_create
from funnel.services import stage_move
from funnel.stages import Stage
from leads.imports.services import import_job_create
from leads.models import ActivityKind, ConsentAction, ConsentRecord, ImportRowError, SavedView
from leads.services import activity_log, lead_delete, lead_merge, lead_update
from leadtrack.api.models import IdempotencyRecord, WebhookDelivery, WebhookEndpoint, WebhookEvent
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Invitation
from leadtrack.tenancy.roles import Role
from referrals.models import Partner, Program, Referral, ReferrerKind
from reports.attribution.models import EmailEvent, EmailEventType
from tests.factories import make_lead

EMAIL = "jane.roe@subject.example"
OLD_EMAIL = "jane.roe+old@subject.example"
NAME = "Jane Roe"
PHONE = "+1 555 0142"
OLD_PHONE = "+1 555 0199"
ENCODED_EMAIL = "jane.roe%40subject.example"  # as a saved lead-list search keeps it
IDENTIFIERS = (EMAIL, OLD_EMAIL, NAME, PHONE, OLD_PHONE, ENCODED_EMAIL)
# What identifies her browser and her messages rather than her name: gone after erasure too.
VISITOR_ID = "lt-vid-jane-7f3a"
IP_PREFIX = "198.51.100.0"
USER_AGENT = "Mozilla/5.0 (JaneBook; rv:7f3a)"
MESSAGE_ID = "msg-jane-7f3a9c"
CLICK_URL = "https://acme.example/offer?who=jane-roe-7f3a"
CONSENT = "Acme may contact me about my request."
DEVICE_IDENTIFIERS = (VISITOR_ID, IP_PREFIX, USER_AGENT, MESSAGE_ID, CLICK_URL)


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
    submission: int


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
        submission = _capture(org, lead_a=lead_a, sam=sam)
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
        submission=submission.pk,
    )


def _capture(org, *, lead_a, sam) -> FormSubmission:
    """Her web-form posts, her browser's page views and her e-mail events (and one of Sam's each)."""
    form = form_save(
        org=org,
        actor=None,
        data={
            "name": "Contact us",
            "fields": [
                {"name": "contact_name", "label": "Name", "required": False, "custom": False},
                {"name": "email", "label": "E-mail", "required": True, "custom": False},
                {"name": "message", "label": "Message", "required": False, "custom": True},
            ],
            "consent_enabled": True,
            "consent_required": True,
            "consent_text": CONSENT,
        },
    )
    now = timezone.now()
    submission = FormSubmission.objects.create(
        organization=org,
        form=form,
        status=SubmissionStatus.CREATED,
        lead=lead_a,
        lead_data={"contact_name": NAME, "email": EMAIL, "phone": PHONE},
        custom_data={"message": "Please call me after five."},
        consent_given=True,
        consent_text=CONSENT,
        visitor_id=VISITOR_ID,
        page_url=f"https://acme.example/contact?email={ENCODED_EMAIL}",
        referrer="https://search.example/",
        utm_source="newsletter",
        ip_prefix=IP_PREFIX,
        user_agent=USER_AGENT,
        embed="script",
        processed_at=now,
    )
    ConsentRecord.objects.create(
        organization=org,
        lead=lead_a,
        action=ConsentAction.GIVEN,
        text=CONSENT,
        recorded_at=now,
        via="form",
        source=f"Web form “Contact us” on {submission.page_url}",
    )
    FormSubmission.objects.create(
        organization=org,
        form=form,
        status=SubmissionStatus.PENDING,
        lead_data={"email": OLD_EMAIL},
        consent_given=True,
        consent_text=CONSENT,
        ip_prefix=IP_PREFIX,
        user_agent=USER_AGENT,
    )
    site = site_create(org=org, actor=None, name="Website")
    Visitor.objects.create(
        organization=org, visitor_id=VISITOR_ID, lead=lead_a, identified_at=now, identified_via="form"
    )
    visit = uuid.uuid4()
    for n, (visitor_id, url) in enumerate(
        (
            (VISITOR_ID, "https://acme.example/pricing"),
            (VISITOR_ID, f"https://acme.example/contact?email={ENCODED_EMAIL}"),
            ("lt-vid-sam-0001", "https://acme.example/"),
        )
    ):
        PageView.objects.create(
            organization=org,
            site=site,
            event_id=f"pv-{n}",
            visitor_id=visitor_id,
            visit_id=visit if visitor_id == VISITOR_ID else uuid.uuid4(),
            occurred_at=now - timedelta(hours=2, minutes=-n),
            url=url,
            path=url.split("acme.example", 1)[1].split("?")[0],
            utm_source="newsletter",
            ip_prefix=IP_PREFIX if visitor_id == VISITOR_ID else "192.0.2.0",
            is_landing=n != 1,
            is_new_visitor=True,
            received_at=now,
        )
    for n, (kind, message, recipient, lead, url) in enumerate(
        (
            (EmailEventType.DELIVERED, MESSAGE_ID, EMAIL, lead_a, ""),
            (EmailEventType.OPEN, MESSAGE_ID, EMAIL, lead_a, ""),
            (EmailEventType.CLICK, "msg-jane-old", OLD_EMAIL, None, CLICK_URL),
            (EmailEventType.DELIVERED, "msg-sam-1", "sam@other.example", sam, ""),
        )
    ):
        EmailEvent.objects.create(
            organization=org,
            event_id=f"evt-{n}",
            event_type=kind,
            message_id=message,
            recipient=recipient,
            campaign="Spring newsletter",
            url=url,
            occurred_at=now - timedelta(hours=1),
            lead=lead,
        )
    return submission


@pytest.fixture
def world(org, other_org, alice, charlie) -> World:
    return build_world(org, other_org, alice, charlie)
