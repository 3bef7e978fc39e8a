"""A partner registers a deal for a company we already know; the partner manager approves it;
a rep wins the lead in the internal UI; the partner sees "Won" and a pending reward; a second
partner sees none of it."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from leadtrack.tenancy.context import tenant_context
from referrals.models import CommissionKind, RewardLedgerEntry, RewardStatus
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_lead
from tests.referrals.conftest import make_partner, make_partner_user, make_program, make_tier


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")


def test_a_partner_registers_a_known_company_and_earns_a_reward(page, login_as, org, mike, bob):
    registered = make_tier(
        org,
        "Registered",
        0,
        commission_kind=CommissionKind.PERCENT_FIRST_YEAR,
        commission_percent=Decimal("10"),
    )
    make_program(org, "Reseller program")
    partnerco = make_partner(org, "Partnerco", tier=registered)
    rivalco = make_partner(org, "Rivalco", tier=registered)
    pat = make_partner_user(org, partnerco, "pat@partnerco.example")
    ria = make_partner_user(org, rivalco, "ria@rivalco.example")
    # The company is already an open lead of Bob's, with a first-year value of 24,000.00.
    lead = make_lead(
        org,
        company="Bigcorp",
        contact_name="Olga Old",
        email="olga@bigcorp.example",
        owner=bob,
        value_12m=24_000_00,
    )

    # 1. The partner submits a referral for someone at Bigcorp.
    login_as(pat)
    page.goto("/o/acme/portal/")
    page.get_by_role("link", name="Submit a referral").first.click()
    page.get_by_label("Company").fill("Bigcorp")
    page.get_by_label("Contact name").fill("Björn Buyer")
    page.get_by_label("Contact e-mail").fill("bjorn+deal@bigcorp.example")
    page.get_by_label("Notes").fill("Björn wants a pilot in Q3.")
    page.get_by_role("button", name="Submit referral").click()
    expect(page.get_by_text("Your referral is under review")).to_be_visible()
    expect(page.locator("[data-field=status]")).to_have_text("Under review")
    log_out(page)

    # 2. The partner manager approves it from the review queue.
    login_as(mike)
    page.goto("/o/acme/")
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_text("An open lead has this company")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "partner_manager_review_queue.png"), full_page=True)
    page.get_by_role("button", name="Approve Bigcorp").click()
    expect(page.get_by_text("Referral of Bigcorp accepted.")).to_be_visible()
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "partner_manager_overview.png"), full_page=True)
    log_out(page)

    # 3. The rep wins the lead in the internal UI (the lead page's stage form).
    login_as(bob)
    page.goto(f"/o/acme/leads/{lead.pk}/")
    page.get_by_label("Move to").select_option("won")
    page.get_by_role("textbox", name="Amount:", exact=True).fill("30,000.00")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_text("moved to Closed won")).to_be_visible()
    log_out(page)

    # 4. The partner sees "Won" and a pending reward of 10% of 24,000.00.
    login_as(pat)
    page.goto("/o/acme/portal/")
    row = page.get_by_role("row", name=re.compile("Bigcorp"))
    expect(row.locator("[data-field=status]")).to_have_text("Won")
    page.get_by_role("link", name="Rewards").click()
    reward_row = page.get_by_role("row", name=re.compile("Bigcorp"))
    expect(reward_row.locator("[data-field=amount]")).to_have_text("2,400.00")
    expect(reward_row.locator("[data-field=status]")).to_have_text("Pending")
    expect(page.locator("[data-total=pending]")).to_have_text("2,400.00")
    page.screenshot(path=str(ARTIFACTS / "partner_sees_pending_reward.png"), full_page=True)
    with tenant_context(org):
        reward = RewardLedgerEntry.objects.get()
    assert (reward.amount, reward.status, reward.partner_id) == (2_400_00, RewardStatus.PENDING, partnerco.pk)
    log_out(page)

    # 5. Another partner sees none of it, not even by guessing the ids.
    login_as(ria)
    page.goto("/o/acme/portal/")
    expect(page.get_by_text("No referrals yet.")).to_be_visible()
    expect(page.get_by_text("Bigcorp")).to_have_count(0)
    page.get_by_role("link", name="Rewards").click()
    expect(page.get_by_text("No rewards yet.")).to_be_visible()
    assert page.request.get(f"/o/acme/portal/rewards/{reward.pk}/").status == 404
    assert page.request.get(f"/o/acme/portal/referrals/{reward.referral_id}/").status == 404
    assert page.dialogs == []
