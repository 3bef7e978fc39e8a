"""A small world of rows in one organization, one of each kind the API serves."""

from __future__ import annotations

from dataclasses import dataclass

from leads.models import Campaign, Source, SpendEntry
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from tests.factories import make_lead


@dataclass
class World:
    ids: dict[str, int]
    canary: str


def build_world(org: Organization, *, member, canary: str) -> World:
    """Rows whose text carries ``canary``, so a leak into another tenant's response is greppable."""
    lead = make_lead(
        org, company=f"{canary} Corp", email=f"lead@{canary.lower()}.example", contact_name="Pat"
    )
    with tenant_context(org):
        activity = activity_log(org=org, actor=member, lead_id=lead.pk, kind="note", subject=f"{canary} note")
        source = Source.objects.create(organization=org, name=f"{canary} source")
        campaign = Campaign.objects.create(organization=org, name=f"{canary} campaign", source=source)
        spend = SpendEntry.objects.create(
            organization=org, spent_on="2026-01-05", amount=1234, source=source, note=f"{canary} spend"
        )
    return World(
        ids={
            "lead_id": lead.pk,
            "activity_id": activity.pk,
            "source_id": source.pk,
            "campaign_id": campaign.pk,
            "spend_id": spend.pk,
            "user_id": member.pk,
        },
        canary=canary,
    )
