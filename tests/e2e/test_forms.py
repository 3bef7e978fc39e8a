"""An admin builds a lead form in the browser; a plain static page on another port embeds it
with the script tag; a visitor arriving from a partner campaign submits it; the lead appears
in the lead list with the campaign's UTM on its web-form touchpoint."""

from __future__ import annotations

from playwright.sync_api import expect

from capture.forms.models import FormSubmission, LeadForm
from leads.models import Activity, ActivityKind, Lead
from leadtrack.tenancy.context import tenant_context
from tests.forms.conftest import make_form

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme robots: contact</title></head>
<body>
<h1>Talk to Acme</h1>
<p>A customer's own site, served from another port: it knows nothing of LeadTrack but the snippet.</p>
{snippet}
</body></html>
"""


def test_an_admin_builds_a_form_and_a_visitor_submits_it_from_another_site(
    page, browser, live_server, login_as, org, alice, static_site
):
    site_dir, site_origin = static_site

    # 1. The admin builds the form in the browser.
    login_as(alice)
    page.goto("/o/acme/")
    page.get_by_role("link", name="Forms", exact=True).click()
    page.get_by_role("link", name="New form").click()
    page.get_by_label("Ask for contact_name").check()
    page.get_by_label("contact_name is required").check()
    page.get_by_label("Label of contact_name").fill("Your name")
    page.get_by_label("Ask for email").check()
    page.get_by_label("email is required").check()
    page.get_by_label("Ask for company").check()
    page.get_by_label("Custom field 1 name").fill("robot_model")
    page.get_by_label("Custom field 1 label").fill("Which robot?")
    page.get_by_label("Name:", exact=True).fill("Contact us")
    page.get_by_label("Button text").fill("Talk to us")
    page.get_by_label("Thank you message").fill("Thanks! We will call you within a day.")
    page.get_by_label("Allowed sites").fill(site_origin)
    page.get_by_label("Ask for consent (checkbox)").check()
    page.get_by_label("Consent text").fill("Acme may contact me about my request.")
    page.get_by_label("Minimum seconds to submit").fill("1")
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text("Saved the form “Contact us”.")).to_be_visible()

    # 2. The snippet to paste goes into the customer's static page.
    snippet = page.locator("#snippet-script").input_value()
    assert f"{live_server.url}/f/" in snippet
    (site_dir / "contact.html").write_text(PAGE.format(snippet=snippet))

    # 3. A visitor arrives from the partner campaign and submits the form.
    visitor = browser.new_context()
    visitor.add_cookies([{"name": "lt_vid", "value": "visitor-e2e-1", "url": site_origin}])
    visitor_page = visitor.new_page()
    visitor_page.goto(f"{site_origin}/contact.html?utm_source=partner&utm_campaign=cert")
    visitor_page.get_by_label("Your name").fill("Vicky Visitor")
    visitor_page.get_by_label("E-mail").fill("vicky@bigrobots.example")
    visitor_page.get_by_label("Company").fill("Big Robots")
    visitor_page.get_by_label("Which robot?").fill("R2 arm")
    visitor_page.get_by_label("Acme may contact me about my request.").check()
    visitor_page.wait_for_timeout(1200)  # a person takes longer than the form's minimum of 1 s
    visitor_page.get_by_role("button", name="Talk to us").click()
    expect(visitor_page.get_by_text("Thanks! We will call you within a day.")).to_be_visible()
    visitor_page.screenshot(path=str(_artifact("test_forms_visitor_thanks.png")), full_page=True)
    visitor.close()

    # 4. The lead is in the admin's lead list.
    page.goto("/o/acme/leads/")
    expect(page.get_by_role("link", name="Big Robots")).to_be_visible()

    with tenant_context(org):
        lead = Lead.objects.select_related("source").get(email="vicky@bigrobots.example")
        activity = Activity.objects.get(lead=lead, kind=ActivityKind.WEB_FORM)
        submission = FormSubmission.objects.get()
        form = LeadForm.objects.get()
    assert (lead.contact_name, lead.source.name) == ("Vicky Visitor", "Web form")
    assert (activity.utm_source, activity.utm_campaign) == ("partner", "cert")
    assert activity.url == f"{site_origin}/contact.html?utm_source=partner&utm_campaign=cert"
    assert "Which robot?: R2 arm" in activity.body
    assert (submission.embed, submission.visitor_id) == ("script", "visitor-e2e-1")
    assert submission.consent_text == "Acme may contact me about my request."
    assert form.allowed_origins == [site_origin]


def _artifact(name: str):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def test_form_labels_consent_and_answers_stay_text_on_every_page(
    page, live_server, login_as, org, alice, static_site
):
    """I1 for forms: payloads as the form's name, labels and consent text (builder input) and as a
    visitor's answers (public input), on the iframe page, the script embed, the admin pages and
    the lead's timeline."""
    from capture.forms.services import submission_process, submission_receive
    from tests.e2e.xss import PAYLOADS, XssSweep

    site_dir, site_origin = static_site
    sweep = XssSweep(page)
    labels = PAYLOADS[:10]
    fields = [{"name": "email", "label": "E-mail", "required": True, "custom": False}] + [
        {"name": f"answer_{i}", "label": label, "required": False, "custom": True}
        for i, label in enumerate(labels)
    ]
    form = make_form(
        org, name=PAYLOADS[10], fields=fields, consent_text=PAYLOADS[11], allowed_origins=[site_origin]
    )
    answers = PAYLOADS[12:22]
    with tenant_context(org):
        submission = submission_receive(
            org=org,
            form=form,
            values={"email": "xss@visitor.example", "consent": "yes"}
            | {f"answer_{i}": answer for i, answer in enumerate(answers)},
            ip_prefix=None,
            user_agent="",
            embed="html",
        )
        lead = submission_process(org=org, submission_id=submission.pk).lead

    sweep.visit(f"/f/{form.key}/embed", expect_text=[*labels, PAYLOADS[11]])
    script = f"{live_server.url}/f/{form.key}.js"
    snippet = f'<div data-leadtrack-embed="{form.key}"></div><script src="{script}" defer></script>'
    (site_dir / "xss.html").write_text(PAGE.format(snippet=snippet))
    sweep.visit(f"{site_origin}/xss.html", expect_text=[*labels, PAYLOADS[11]])
    login_as(alice)
    sweep.visit("/o/acme/forms/", expect_text=[PAYLOADS[10]])
    sweep.visit(f"/o/acme/forms/{form.pk}/", expect_text=[PAYLOADS[10]])
    sweep.visit(f"/o/acme/forms/{form.pk}/edit/")
    sweep.visit(f"/o/acme/forms/{form.pk}/submissions/")
    sweep.visit(f"/o/acme/leads/{lead.pk}/", expect_text=answers)
    report = sweep.report("I1 forms")
    assert report.clean, report.failures()[:3]


def test_a_visitor_submits_the_iframe_embed_on_another_site(browser, live_server, org, static_site):
    site_dir, site_origin = static_site
    form = make_form(org, allowed_origins=[site_origin], min_seconds_to_submit=1)
    src = f"{live_server.url}/f/{form.key}/embed"
    iframe = f'<iframe src="{src}" title="Contact" width="600" height="700"></iframe>'
    (site_dir / "framed.html").write_text(PAGE.format(snippet=iframe))

    visitor = browser.new_context()
    page = visitor.new_page()
    page.goto(f"{site_origin}/framed.html?utm_source=partner")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Work e-mail").fill("frank@framed.example")
    frame.get_by_label("Company").fill("Framed Ltd")
    frame.get_by_label("I agree that Acme stores my details").check()
    page.wait_for_timeout(1200)  # longer than the form's minimum of 1 s, as a person would take
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_text("Thanks, we will call you.")).to_be_visible()
    page.screenshot(path=str(_artifact("test_forms_iframe_thanks.png")), full_page=True)
    visitor.close()

    with tenant_context(org):
        submission = FormSubmission.objects.select_related("lead").get()
    assert (submission.embed, submission.lead.company) == ("iframe", "Framed Ltd")
    assert submission.page_url.startswith(site_origin)
