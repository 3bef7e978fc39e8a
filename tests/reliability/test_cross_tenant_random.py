"""T1/T2, the headline: a randomized, stateful cross-tenant run over three organizations.

Principals of three organizations (an API key and a signed-in member each) create rows
through the API as they go (state), and between creations aim every id-taking API
operation and every id-taking browser page at rows of the *other* organizations. The run
counts responses that touch another organization's data: a 2xx on a foreign id, a foreign
canary in any body, or a foreign row that changed. Seeded, so a failure replays.
"""

from __future__ import annotations

import os
import random
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from funnel.models import StageTransition
from leads.models import Activity, Campaign, Lead, Source, SpendEntry
from leadtrack.api.services import api_key_create
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.api.routes import api_operations, request
from tests.factories import OrganizationFactory, UserFactory, add_member, verify_second_factor

REQUESTS = int(os.environ.get("T1_REQUESTS", "10000"))
SEED = int(os.environ.get("T1_SEED", "20261125"))
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
BODIES = {"transitions": {"to_stage": "mql"}, "activities": {"kind": "note", "subject": "Hijacked"}}

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _browser_routes() -> list[str]:
    """Tenant pages whose only path parameters are the organization and one row id."""
    routes = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                params = PARAM.findall(route)
                if route.startswith("o/") and params[:1] == ["org_slug"] and params[1:] == ["lead_id"]:
                    routes.append(route)

    walk(get_resolver().url_patterns)
    return routes


class Tenant:
    def __init__(self, slug: str, canary: str):
        self.org = OrganizationFactory(slug=slug, name=slug.title())
        self.canary = canary
        admin = UserFactory(email=f"admin@{slug}.example")
        add_member(self.org, admin, Role.ADMIN)
        with tenant_context(self.org):
            _, raw = api_key_create(org=self.org, actor=None, name="t1", scopes=["read", "write"])
            source = Source.objects.create(organization=self.org, name=f"{canary} source")
            campaign = Campaign.objects.create(
                organization=self.org, name=f"{canary} campaign", source=source
            )
            spend = SpendEntry.objects.create(
                organization=self.org,
                spent_on="2026-01-05",
                amount=100,
                source=source,
                note=f"{canary} spend",
            )
        self.row_ids = {
            "source_id": source.pk,
            "campaign_id": campaign.pk,
            "spend_id": spend.pk,
            "user_id": admin.pk,
        }
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        self.browser = APIClient()
        self.browser.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
        verify_second_factor(self.browser, admin)
        self.lead_ids: list[int] = []
        self.activity_ids: list[int] = []
        self.created = 0

    def create_lead(self) -> None:
        self.created += 1
        response = self.api.post(
            "/api/v1/leads/",
            {
                "company": f"{self.canary} {self.created}",
                "email": f"p{self.created}@{self.canary.lower()}.example",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        self.lead_ids.append(response.json()["id"])

    def log_activity(self, rng: random.Random) -> None:
        lead_id = rng.choice(self.lead_ids)
        response = self.api.post(
            f"/api/v1/leads/{lead_id}/activities/",
            {"kind": "note", "subject": f"{self.canary} note"},
            format="json",
        )
        assert response.status_code == 201, response.content
        self.activity_ids.append(response.json()["id"])


def test_ten_thousand_random_requests_never_touch_another_organization(settings):
    settings.API_RATE_LIMITS = {"key": "1000000/min", "organization": "1000000/min"}
    rng = random.Random(SEED)
    tenants = [
        Tenant("acme", "ACMECANARY"),
        Tenant("globex", "GLOBEXCANARY"),
        Tenant("initech", "INITECHCANARY"),
    ]
    for tenant in tenants:
        for _ in range(3):
            tenant.create_lead()
        tenant.log_activity(rng)
    id_operations = [op for op in api_operations() if op.id_params]
    list_operations = [op for op in api_operations() if not op.id_params and op.method == "GET"]
    browser_routes = _browser_routes()
    assert id_operations and list_operations and browser_routes

    requests = leaks = foreign_2xx = 0
    offenders: list[tuple[str, str, int]] = []
    for _ in range(REQUESTS):
        me = rng.choice(tenants)
        them = rng.choice([t for t in tenants if t is not me])
        roll = rng.random()
        if roll < 0.03:  # state grows: a new lead or activity of my own
            if roll < 0.02:
                me.create_lead()
            else:
                me.log_activity(rng)
            requests += 1
            continue
        if roll < 0.15:  # my lists must hold none of their canaries
            operation = rng.choice(list_operations)
            response = request(me.api, operation, operation.path())
            body = response.content.decode(errors="replace")
            leaks += any(t.canary in body for t in tenants if t is not me)
        elif roll < 0.30:  # my organization's pages with their lead ids, as my member
            route = rng.choice(browser_routes)
            path = "/" + route.replace("<slug:org_slug>", me.org.slug).replace(
                "<int:lead_id>", str(rng.choice(them.lead_ids))
            )
            response = me.browser.get(path)
            if response.status_code < 300 or them.canary in response.content.decode(errors="replace"):
                foreign_2xx += 1
                offenders.append(("GET", path, response.status_code))
        else:  # every id-taking API operation with their ids
            operation = rng.choice(id_operations)
            ids = {
                **them.row_ids,
                "lead_id": rng.choice(them.lead_ids),
                "activity_id": rng.choice(them.activity_ids),
            }
            path = operation.path(**{name: ids[name] for name in operation.id_params})
            body = next(
                (b for marker, b in BODIES.items() if marker in operation.route), {"company": "Hijacked"}
            )
            response = request(me.api, operation, path, body)
            if response.status_code < 300:
                foreign_2xx += 1
                offenders.append((operation.method, path, response.status_code))
            leaks += them.canary in response.content.decode(errors="replace")
        requests += 1

    hijacked = sum(_count_hijacked(tenant) for tenant in tenants)
    print(
        f"\n[T1] requests={requests} organizations=3 seed={SEED} api_operations={len(id_operations)}"
        f" list_operations={len(list_operations)} browser_routes={len(browser_routes)}"
        f" cross_tenant_2xx={foreign_2xx} canary_leaks={leaks} foreign_rows_changed={hijacked}"
    )
    assert requests >= REQUESTS
    assert (foreign_2xx, leaks, hijacked) == (0, 0, 0), offenders[:10]


def _count_hijacked(tenant: Tenant) -> int:
    """Rows of ``tenant`` that another organization's request wrote: its bodies say "Hijacked",
    and no tenant in this run moves a stage of its own leads."""
    with tenant_context(tenant.org):
        return (
            Lead.objects.filter(company="Hijacked").count()
            + Activity.objects.filter(subject="Hijacked").count()
            + StageTransition.objects.exclude(from_stage="").count()
        )
