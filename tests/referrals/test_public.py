"""Public referral links /r/<code>: attribution, honeypot, per-IP limit, no existence leak."""

from __future__ import annotations

import pytest

from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from referrals import services
from referrals.models import Referral, ReferralLink, ReferralStatus
from referrals.public_views import PER_IP_LIMIT
from tests.factories import make_lead
from tests.referrals.conftest import make_program

FORM = {"company": "Linkco", "contact_name": "Lin Link", "email": "lin@linkco.example"}


@pytest.fixture
def link(org, program, partnerco) -> ReferralLink:
    with tenant_context(org):
        return services.referral_link_create(org=org, program_id=program.pk, partner_id=partnerco.pk)


def test_the_form_is_public_and_a_submission_is_attributed_to_the_links_partner(client, org, link, partnerco):
    assert client.get(f"/r/{link.code}").status_code == 200
    response = client.post(f"/r/{link.code}", FORM)
    assert response.status_code == 302 and response["Location"] == f"/r/{link.code}/thanks"
    with tenant_context(org):
        referral = Referral.objects.select_related("lead__source").get()
        assert (referral.partner_id, referral.via, referral.submitted_by) == (partnerco.pk, "form", None)
        assert referral.lead.source.channel_type == "partner_referral"


def test_a_customer_advocates_link_files_a_customer_referral(client, org):
    from tests.referrals.test_services import win

    advocates = make_program(org, "Advocates", kind="customer")
    customer = make_lead(org, email="fan@customer.example")
    win(org, customer.pk, amount=100)
    with tenant_context(org):
        link = services.referral_link_create(org=org, program_id=advocates.pk, customer_lead_id=customer.pk)
    client.post(f"/r/{link.code}", FORM)
    with tenant_context(org):
        referral = Referral.objects.select_related("lead__source").get()
        assert referral.referring_customer_id == customer.pk
        assert referral.lead.source.channel_type == "customer_referral"


def test_unknown_foreign_and_inactive_links_are_404(client, org, other_org, link):
    assert client.get("/r/no-such-code").status_code == 404
    assert client.get("/r/999999-" + link.code.split("-")[1]).status_code == 404
    # The right random part under another organization's prefix finds nothing there.
    assert client.get(f"/r/{other_org.pk}-" + link.code.split("-")[1]).status_code == 404
    with tenant_context(org):
        ReferralLink.objects.filter(pk=link.pk).update(active=False)
    assert client.get(f"/r/{link.code}").status_code == 404


def test_the_honeypot_looks_like_success_and_stores_nothing(client, org, link):
    response = client.post(f"/r/{link.code}", {**FORM, "homepage": "http://spam.example"})
    assert response.status_code == 302
    with tenant_context(org):
        assert not Referral.objects.exists()


def test_the_per_ip_limit_answers_429(client, org, link):
    limit, _ = PER_IP_LIMIT
    statuses = [
        client.post(
            f"/r/{link.code}", {**FORM, "email": f"p{i}@linkco{i}.example", "company": f"Co {i}"}
        ).status_code
        for i in range(limit + 1)
    ]
    assert statuses[:limit] == [302] * limit
    assert statuses[limit] == 429
    other_ip = client.post(
        f"/r/{link.code}", {**FORM, "email": "z@z.example", "company": "Z"}, REMOTE_ADDR="10.9.9.9"
    )
    assert other_ip.status_code == 302


def test_the_answer_never_reveals_whether_the_company_is_known(client, org, link):
    make_lead(org, company="Knownco", email="boss@knownco.example")
    known = client.post(f"/r/{link.code}", {**FORM, "company": "Knownco", "email": "new@knownco.example"})
    unknown = client.post(f"/r/{link.code}", {**FORM, "company": "Freshco", "email": "new@freshco.example"})
    repeat = client.post(f"/r/{link.code}", {**FORM, "company": "Freshco", "email": "new@freshco.example"})
    assert known.status_code == unknown.status_code == repeat.status_code == 302
    assert known["Location"] == unknown["Location"] == repeat["Location"]
    pages = {client.get(r["Location"]).content for r in (known, unknown, repeat)}
    assert len(pages) == 1
    with tenant_context(org):
        statuses = dict(Referral.objects.values_list("company", "status"))
        assert Lead.objects.filter(company="Knownco").count() == 1
    assert statuses == {"Knownco": ReferralStatus.UNDER_REVIEW, "Freshco": ReferralStatus.ACCEPTED}


def test_bad_input_is_a_field_error_not_a_500(client, org, link):
    response = client.post(f"/r/{link.code}", {**FORM, "email": "not an email", "notes": "x" * 10_001})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "notes"}


def test_input_is_escaped_on_the_form_page(client, org, link):
    response = client.post(
        f"/r/{link.code}", {**FORM, "company": '"><script>alert(1)</script>', "email": "bad"}
    )
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
