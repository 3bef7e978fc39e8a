"""An admin creates an API key in Settings → API (shown once), the key works, and the API docs
render in the browser under the strict CSP, offline."""

from __future__ import annotations

from playwright.sync_api import expect


def test_an_admin_creates_a_key_and_reads_the_api_docs(page, login_as, alice, org):
    csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    login_as(alice)
    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Name").fill("Zapier")
    page.get_by_label("Write", exact=True).check()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("Key", exact=True).input_value()
    assert key.startswith("lt_")
    answer = page.request.get("/api/v1/leads/", headers={"Authorization": f"Bearer {key}"})
    assert answer.status == 200 and answer.json()["results"] == []

    page.goto(f"/o/{org.slug}/settings/api/")
    expect(page.get_by_role("cell", name="Zapier")).to_be_visible()
    expect(page.get_by_label("Key", exact=True)).to_have_count(0)
    assert key not in page.content()

    page.goto("/api/v1/docs/")
    expect(page.get_by_role("link", name="/api/v1/leads/bulk/")).to_be_visible()
    expect(page.get_by_text("X-LeadTrack-Signature").first).to_be_visible()
    assert csp_violations == []
    assert page.dialogs == []
