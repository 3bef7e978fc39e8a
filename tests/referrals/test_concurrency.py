"""Racing registrations: the conflict rules and the daily cap hold under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from referrals.models import Referral, ReferralStatus
from tests.referrals.conftest import make_partner, make_program, make_tier, submit

RACERS = 6


def race(target, count: int) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            outcomes.append(target(n))
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_partners_racing_for_one_company_get_one_registration_and_the_rest_review(org):
    tier = make_tier(org, "Registered", 0)
    program = make_program(org)
    partners = [make_partner(org, f"Racer {n}", tier=tier) for n in range(RACERS)]

    def register(n: int) -> str:
        # Same company domain, a different contact each: only the lock keeps them apart.
        return submit(
            org,
            partners[n],
            program,
            company="Contested",
            contact_name=f"C{n}",
            email=f"c{n}@contested.example",
        ).referral.status

    outcomes = race(register, RACERS)
    with tenant_context(org):
        leads = Lead.objects.filter(domain="contested.example").count()
        statuses = sorted(Referral.objects.values_list("status", flat=True))
    print(f"\n[R4] racing partners={RACERS} leads={leads} accepted={statuses.count('accepted')}")
    assert leads == 1
    assert (
        sorted(outcomes) == statuses == sorted([ReferralStatus.ACCEPTED] + [ReferralStatus.UNDER_REVIEW] * 5)
    )


@pytest.mark.django_db(transaction=True)
def test_the_daily_cap_holds_when_one_partner_submits_in_parallel(org):
    program = make_program(org)
    partner = make_partner(org, "Burst", daily_referral_cap=3)

    def register(n: int) -> str:
        return submit(org, partner, program, company=f"Co{n}", email=f"p{n}@co{n}.example").referral.status

    outcomes = race(register, RACERS)
    with tenant_context(org):
        stored = Referral.objects.count()
    print(f"\n[R4] burst={RACERS} cap=3 stored={stored}")
    assert stored == 3 and outcomes.count("refused") == RACERS - 3
