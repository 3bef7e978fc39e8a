"""A tenant admin signs in, invites a colleague, and a person in two organizations switches between them."""

from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import expect

from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Invitation


def test_an_admin_invites_a_colleague(page, login_as, alice, org):
    login_as(alice)
    expect(page.get_by_role("heading", name=org.name)).to_be_visible()
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Email").fill("newrep@acme.example")
    page.get_by_label("Role:", exact=True).select_option("sales_rep")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to newrep@acme.example")).to_be_visible()
    with tenant_context(org):
        assert Invitation.objects.get().email == "newrep@acme.example"
    assert re.search(r"/invitations/acme/", mail.outbox[-1].body)
    assert page.dialogs == []


def test_a_person_in_two_organizations_switches_between_them(page, login_as, dana, org, other_org):
    login_as(dana)
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
    page.get_by_role("link", name=other_org.name).click()
    expect(page.get_by_role("heading", name=other_org.name)).to_be_visible()
    page.get_by_role("link", name="Organizations").click()
    page.get_by_role("link", name=org.name).click()
    expect(page.get_by_role("heading", name=org.name)).to_be_visible()
