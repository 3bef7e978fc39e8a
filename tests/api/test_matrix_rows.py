"""Rows of the reliability matrix (../shared/docs/reliability.md §2) answered through the API:
I2 dangerous URL schemes, T4 mass assignment, R3 resource caps, D13 soft delete. Each prints its figure."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from leads.models import Lead
from leads.services import LEAD_WRITABLE_FIELDS, lead_delete
from leadtrack.tenancy.context import tenant_context
from reports.selectors import metric_values
from tests.factories import make_lead

SCHEMES = ("javascript", "data", "vbscript")
BODIES = {"javascript": ":alert(1)", "data": ":text/html,<script>alert(1)</script>", "vbscript": ":msgbox(1)"}


def _mixed_case(word: str, mask: int) -> str:
    return "".join(ch.upper() if mask >> i & 1 else ch for i, ch in enumerate(word))


@st.composite
def dangerous_urls(draw) -> str:
    scheme = draw(st.sampled_from(SCHEMES))
    spelled = _mixed_case(scheme, draw(st.integers(0, 2 ** len(scheme) - 1)))
    # Leading spaces/controls and a tab or newline inside the scheme: browsers strip all of these.
    prefix = draw(st.sampled_from(["", " ", "\t", "\n", "\x01", "  \r\n"]))
    cut = draw(st.integers(0, len(spelled)))
    inner = draw(st.sampled_from(["", "\t", "\n", "\r"]))
    return f"{prefix}{spelled[:cut]}{inner}{spelled[cut:]}{BODIES[scheme]}"


class TestI2DangerousUrlSchemes:
    tried: list[str] = []

    @hypothesis_settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(url=dangerous_urls())
    def test_no_url_field_accepts_a_script_or_data_scheme(self, acme_api, org, url):
        created = acme_api.post("/api/v1/leads/", {"company": "Scheme Co", "website": url}, format="json")
        assert created.status_code == 400, url
        assert "website" in created.json()["errors"], created.json()
        with tenant_context(org):
            lead = Lead.objects.filter(company="Safe Co").first()
        if lead is None:
            lead = make_lead(org, company="Safe Co", website="https://safe.example")
        patched = acme_api.patch(f"/api/v1/leads/{lead.pk}/", {"website": url}, format="json")
        assert patched.status_code == 400, url
        activity = acme_api.post(
            f"/api/v1/leads/{lead.pk}/activities/", {"kind": "page_visit", "url": url}, format="json"
        )
        assert activity.status_code == 400, url
        with tenant_context(org):
            assert not Lead.objects.filter(company="Scheme Co").exists()
            assert Lead.objects.get(pk=lead.pk).website == "https://safe.example"
            assert not lead.activities.exists()
        self.tried.append(url)

    def test_zz_report(self):
        print(f"I2: dangerous URL variants tried: {len(self.tried)} x 3 write paths, accepted = 0")


def _sample_value(field):
    """A plausible value for any Lead column, so only the 'may you set it' rule decides."""
    internal = field.get_internal_type()
    if internal in {"DateTimeField"}:
        return "2025-05-01T10:00:00Z"
    if internal in {"IntegerField", "PositiveIntegerField", "BigIntegerField", "BigAutoField", "ForeignKey"}:
        return 1
    if internal == "BooleanField":
        return True
    return "tampered"


def test_t4_no_field_outside_the_writable_set_is_accepted_on_create_or_update(acme_api, org, other_org):
    with tenant_context(org):
        target = make_lead(org, company="Target Co", email="target@example.com")
        before = {
            f.attname: getattr(Lead.objects.get(pk=target.pk), f.attname) for f in Lead._meta.concrete_fields
        }
    protected = [
        f for f in Lead._meta.concrete_fields if f.name not in LEAD_WRITABLE_FIELDS and f.name != "id"
    ]
    attempts = 0
    for field in protected:
        for name in {field.name, field.attname}:
            value = other_org.pk if name.startswith("organization") else _sample_value(field)
            created = acme_api.post("/api/v1/leads/", {"company": f"Mass {name}", name: value}, format="json")
            patched = acme_api.patch(f"/api/v1/leads/{target.pk}/", {name: value}, format="json")
            attempts += 2
            assert created.status_code == 400, (name, created.json())
            assert patched.status_code == 400, (name, patched.json())
            assert name in created.json()["errors"] and name in patched.json()["errors"]
    with tenant_context(org):
        after = {
            f.attname: getattr(Lead.objects.get(pk=target.pk), f.attname) for f in Lead._meta.concrete_fields
        }
        assert after == before
        assert not Lead.objects.filter(company__startswith="Mass ").exists()
    print(f"T4: {len(protected)} protected Lead fields, {attempts} create/update attempts, changed = 0")


def test_r3_page_size_is_capped_and_bad_paging_is_a_400(acme_api, org):
    for number in range(5):
        make_lead(org, company=f"Page Co {number}")
    maximum = settings.API_MAX_PAGE_SIZE
    assert acme_api.get("/api/v1/leads/", {"page_size": 10**6}).status_code == 400
    assert acme_api.get("/api/v1/leads/", {"page_size": 0}).status_code == 400
    assert acme_api.get("/api/v1/leads/", {"cursor": "not-a-cursor"}).status_code == 400
    largest = acme_api.get("/api/v1/leads/", {"page_size": maximum})
    assert largest.status_code == 200 and len(largest.json()["results"]) <= maximum
    print(f"R3: page_size 10^6 → 400; the largest page holds at most {maximum} rows; bad cursor → 400")


def test_d13_a_deleted_lead_is_gone_from_lists_search_exports_api_and_metrics(acme_api, org, alice, login):
    today = dt.date.today()
    with tenant_context(org):
        kept = make_lead(org, company="Kept Co", email="kept@example.com")
        gone = make_lead(org, company="Gone Co", email="gone@example.com")

    def leads_metric():
        with tenant_context(org):
            rows = metric_values(
                org=org,
                metric="leads",
                period="custom",
                group_by=[],
                date_from=today - dt.timedelta(days=1),
                date_to=today + dt.timedelta(days=1),
                filters={},
            )
        return rows[0]["value"] if rows else 0

    assert leads_metric() == 2
    with tenant_context(org):
        lead_delete(org=org, actor=alice, lead_id=gone.pk)

    listed = [row["id"] for row in acme_api.get("/api/v1/leads/").json()["results"]]
    assert listed == [kept.pk]
    assert acme_api.get("/api/v1/leads/", {"search": "Gone"}).json()["results"] == []
    assert acme_api.get(f"/api/v1/leads/{gone.pk}/").status_code == 404
    browser = login(alice)
    page = browser.get(f"/o/{org.slug}/leads/", {"q": "Gone"})
    assert page.status_code == 200 and b"Gone Co" not in page.content
    assert browser.get(f"/o/{org.slug}/leads/{gone.pk}/").status_code == 404
    export = browser.get(f"/o/{org.slug}/leads/export/leads.csv")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert b"Kept Co" in body and b"Gone Co" not in body
    assert leads_metric() == 1
    again = acme_api.post(
        "/api/v1/leads/", {"company": "Gone Co again", "email": "gone@example.com"}, format="json"
    )
    assert again.status_code == 201
    print("D13: deleted lead absent from API list/search/detail, page, CSV export, metrics; e-mail reusable")
