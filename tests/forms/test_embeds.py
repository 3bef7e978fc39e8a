"""The iframe page and the script: frameable by the allowed sites only, fresh render stamps."""

from __future__ import annotations

import json
import re

from tests.forms.conftest import make_form


def _csp(response) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


def test_the_iframe_page_may_be_framed_by_the_allowed_sites_only(client, org):
    form = make_form(org, allowed_origins=["https://www.acme.example", "https://blog.acme.example"])

    response = client.get(f"/f/{form.key}/embed")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert _csp(response)["frame-ancestors"] == "https://blog.acme.example https://www.acme.example"
    assert response["Cache-Control"] == "no-store"


def test_without_listed_sites_the_iframe_page_may_be_framed_by_any_web_page(client, lead_form):
    response = client.get(f"/f/{lead_form.key}/embed")

    assert _csp(response)["frame-ancestors"] == "http: https:"


def test_the_app_s_own_pages_still_refuse_framing(client, login, alice, lead_form):
    response = login(alice).get(f"/o/acme/forms/{lead_form.pk}/")

    assert response["X-Frame-Options"] == "DENY"
    assert _csp(response)["frame-ancestors"] == "'none'"


def test_the_iframe_page_may_send_the_visitor_to_the_redirect_url(client, org):
    form = make_form(org, redirect_url="https://www.acme.example/thanks")

    response = client.get(f"/f/{form.key}/embed")

    assert _csp(response)["form-action"] == "'self' https://www.acme.example"


def test_the_iframe_page_has_labels_consent_honeypot_and_hidden_tracking_fields(client, lead_form):
    page = client.get(f"/f/{lead_form.key}/embed").content.decode()

    assert '<label for="lt-email">Work e-mail *</label>' in page
    assert "I agree that Acme stores my details" in page
    assert 'name="lt_hp"' in page
    for name in ("lt_vid", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "page_url"):
        assert f'name="{name}"' in page
    assert '<script src="/static/webforms/frame.js"></script>' in page
    assert "<script>" not in page  # no inline script under the CSP


def test_the_script_carries_the_form_and_the_renderer(client, lead_form):
    response = client.get(f"/f/{lead_form.key}.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-store"
    code = response.content.decode()
    config = json.loads(
        re.match(
            r"\(window\.LeadTrackForms = window\.LeadTrackForms \|\| \[\]\)\.push\((.*)\);\n", code
        ).group(1)
    )
    assert config["key"] == lead_form.key
    assert config["action"] == f"http://testserver/f/{lead_form.key}"
    assert [f["name"] for f in config["fields"]] == [
        "contact_name",
        "email",
        "company",
        "employees",
        "budget",
    ]
    assert config["consent"] == {"text": lead_form.consent_text, "required": True}
    assert config["tracking"] == [
        "lt_vid",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "page_url",
        "referrer",
    ]
    assert "data-leadtrack-embed" in code  # the renderer from static/webforms/embed.js follows


def test_a_form_name_cannot_break_out_of_the_script(client, org):
    form = make_form(org, name="</script><script>alert(1)</script>", submit_label="<b>Go</b>")

    code = client.get(f"/f/{form.key}.js").content.decode()

    assert "</script>" not in code
    assert "<b>" not in code


def test_the_demo_form_is_seeded_once(db):
    from capture.forms.demo import seed_demo_forms
    from capture.forms.models import LeadForm
    from leadtrack.tenancy.context import tenant_context
    from tests.factories import OrganizationFactory

    robotix = OrganizationFactory(slug="robotix", name="Robotix")

    assert (seed_demo_forms(), seed_demo_forms()) == (1, 0)
    with tenant_context(robotix):
        form = LeadForm.objects.select_related("source").get()
    assert (form.name, form.source.name) == ("Request a demo", "Web form")
