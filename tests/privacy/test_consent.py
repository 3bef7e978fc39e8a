"""G3: consent and source. A lead carries its lawful basis (a default per channel), its consent
records (wording, time, where) and its source; a partner's referral gets an Art. 14 notice date;
a withdrawal (lead page button or API field) is recorded and keeps the person out of the
marketing exports (the lead-list CSV and XLSX, docs/privacy.md)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from capture.forms.models import FormSubmission, SubmissionStatus
from capture.forms.services import form_save, submission_process
from leads.models import ConsentAction, ConsentRecord, LawfulBasis, Lead, LeadChange
from leads.services import lead_marketing_withdraw
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from referrals.models import Referral
from tests.factories import make_lead
from tests.referrals.conftest import make_partner, make_program, submit

CONSENT = "Acme may e-mail me news about its products. I can unsubscribe at any time."
PAGE = "https://acme.example/contact"


@pytest.fixture
def client_for(db):
    def _client(org) -> APIClient:
        with tenant_context(org):
            _, raw = api_key_create(org=org, actor=None, name="CRM sync", scopes=("read", "write"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return _client


def _form_lead(org, *, email: str, consent: bool) -> Lead:
    """A web-form post (consent box ticked or not) processed the way the task does it."""
    with tenant_context(org):
        form = form_save(
            org=org,
            actor=None,
            data={
                "name": "Newsletter",
                "fields": [{"name": "email", "label": "E-mail", "required": True, "custom": False}],
                "consent_enabled": True,
                "consent_required": False,
                "consent_text": CONSENT,
            },
        )
        submission = FormSubmission.objects.create(
            organization=org,
            form=form,
            status=SubmissionStatus.PENDING,
            lead_data={"email": email},
            consent_given=consent,
            consent_text=CONSENT,
            page_url=PAGE,
        )
        submission = submission_process(org=org, submission_id=submission.pk)
        return Lead.objects.get(pk=submission.lead_id)


def _csv_emails(client, org) -> set[str]:
    response = client.get(reverse("lead_export_csv", kwargs={"org_slug": org.slug}))
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    return {row["email"] for row in rows}


def _xlsx_emails(client, org) -> set[str]:
    response = client.get(reverse("lead_export_xlsx", kwargs={"org_slug": org.slug}))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("email")
    return {row[column] for row in rows[1:]}


def test_a_form_with_consent_gives_the_consent_basis_and_a_consent_record(org):
    before = timezone.now()
    lead = _form_lead(org, email="optin@people.example", consent=True)
    unticked = _form_lead(org, email="noconsent@people.example", consent=False)
    with tenant_context(org):
        record = ConsentRecord.objects.get(lead=lead)
        assert (lead.lawful_basis, lead.source.name) == (LawfulBasis.CONSENT, "Web form")
        assert (record.action, record.text, record.via) == (ConsentAction.GIVEN, CONSENT, "form")
        assert record.source == f"Web form “Newsletter” on {PAGE}" and record.recorded_at >= before
        assert unticked.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST
        assert not ConsentRecord.objects.filter(lead=unticked).exists()


def test_import_and_api_default_to_legitimate_interest_unless_given(org, client_for):
    api = client_for(org)
    plain = api.post("/api/v1/leads/", {"email": "api@people.example"}, format="json")
    chosen = api.post(
        "/api/v1/leads/", {"email": "client@people.example", "lawful_basis": "contract"}, format="json"
    )
    wrong = api.post(
        "/api/v1/leads/", {"email": "x@people.example", "lawful_basis": "because"}, format="json"
    )
    assert (plain.status_code, chosen.status_code, wrong.status_code) == (201, 201, 400)
    assert plain.json()["lawful_basis"] == "legitimate_interest"
    assert chosen.json()["lawful_basis"] == "contract"
    assert chosen.json()["marketing_withdrawn_at"] is None
    changed = api.patch(f"/api/v1/leads/{plain.json()['id']}/", {"lawful_basis": "consent"}, format="json")
    assert changed.json()["lawful_basis"] == "consent"
    with tenant_context(org):
        assert LeadChange.objects.filter(
            lead_id=plain.json()["id"], changes__lawful_basis=["legitimate_interest", "consent"]
        ).exists()
        imported = make_lead(org, email="imported@people.example")
        assert imported.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST


def test_a_partner_referral_gets_its_art14_notice_date(org, django_capture_on_commit_callbacks):
    partner = make_partner(org, "Channel Co")
    program = make_program(org, auto_accept=True)
    mail.outbox.clear()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(org, partner, program, email="referred@people.example", contact_name="Rita Ref")
    with tenant_context(org):
        referral = Referral.objects.get(pk=result.referral.pk)
    assert referral.privacy_notice_at is not None and referral.privacy_notice_at >= before
    notices = [m for m in mail.outbox if m.to == ["referred@people.example"]]
    assert len(notices) == 1
    assert "Channel Co passed your name" in notices[0].body and "object" in notices[0].body
    # The task running again (a retry) sends nothing twice.
    from referrals.services import referral_privacy_notice_send

    with tenant_context(org):
        referral_privacy_notice_send(org=org, referral_id=referral.pk)
    assert len([m for m in mail.outbox if m.to == ["referred@people.example"]]) == 1


def test_withdrawal_from_the_lead_page_and_the_api_leaves_the_marketing_exports(
    org, alice, login, client_for
):
    make_lead(org, actor=alice, company="Kept", email="kept@people.example")
    by_button = make_lead(org, actor=alice, company="Button", email="button@people.example")
    by_api = make_lead(org, actor=alice, company="Api", email="api-out@people.example")
    client = login(alice)
    emails = {"kept@people.example", "button@people.example", "api-out@people.example"}
    assert _csv_emails(client, org) == emails and _xlsx_emails(client, org) == emails

    page = client.get(reverse("lead_detail", kwargs={"org_slug": org.slug, "lead_id": by_button.pk}))
    assert b"Record withdrawal" in page.content
    url = reverse("lead_marketing_withdraw", kwargs={"org_slug": org.slug, "lead_id": by_button.pk})
    assert client.post(url).status_code == 302
    api = client_for(org)
    response = api.patch(f"/api/v1/leads/{by_api.pk}/", {"marketing_withdrawn": True}, format="json")
    assert response.status_code == 200 and response.json()["marketing_withdrawn_at"] is not None
    undo = api.patch(f"/api/v1/leads/{by_api.pk}/", {"marketing_withdrawn": False}, format="json")
    assert undo.status_code == 400

    csv_left, xlsx_left = _csv_emails(client, org), _xlsx_emails(client, org)
    assert csv_left == xlsx_left == {"kept@people.example"}
    with tenant_context(org):
        records = ConsentRecord.objects.filter(action=ConsentAction.WITHDRAWN).order_by("pk")
        assert [(r.lead_id, r.via, r.source, r.actor_id) for r in records] == [
            (by_button.pk, "ui", "Lead page", alice.pk),
            (by_api.pk, "api", "API", None),
        ]
        # A second withdrawal records nothing more; the leads stay in the app for sales.
        lead_marketing_withdraw(org=org, actor=alice, lead_id=by_button.pk)
        assert ConsentRecord.objects.filter(action=ConsentAction.WITHDRAWN).count() == 2
        assert Lead.objects.filter(pk__in=[by_button.pk, by_api.pk], deleted_at__isnull=True).count() == 2
    print(
        f"\n[G3] lawful_bases={len(LawfulBasis.values)} marketing_exports=2 (csv, xlsx) "
        f"withdrawn_in_exports={len((csv_left | xlsx_left) - {'kept@people.example'})} "
        f"withdrawals_recorded={len(records)} kept_in_exports={len(csv_left)}"
    )


def test_a_new_consent_after_a_withdrawal_opts_the_person_in_again(org, alice):
    lead = make_lead(org, actor=alice, email="again@people.example")
    with tenant_context(org):
        lead_marketing_withdraw(org=org, actor=alice, lead_id=lead.pk)
    again = _form_lead(org, email="again@people.example", consent=True)
    with tenant_context(org):
        assert again.pk == lead.pk and again.marketing_withdrawn_at is None
        assert list(
            ConsentRecord.objects.filter(lead=lead).order_by("pk").values_list("action", flat=True)
        ) == [
            ConsentAction.WITHDRAWN,
            ConsentAction.GIVEN,
        ]
