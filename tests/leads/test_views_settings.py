"""Lead settings (admins) and the source / campaign / industry catalog (admins and managers)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.messages import get_messages

from leads.models import Campaign, CountryRegion, Industry, LeadSettings, Segment, Source, SpendEntry
from leads.regions import Region
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

SETTINGS = "/o/acme/leads/settings/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class TestLeadSettings:
    @pytest.mark.parametrize(("who", "status"), [("alice", 200), ("mike", 403), ("bob", 403), ("vera", 403)])
    def test_only_admins_manage_lead_settings(self, request, login, who, status):
        assert login(request.getfixturevalue(who)).get(SETTINGS).status_code == status

    def test_thresholds_and_team_visibility_are_saved_and_used(self, login, org, alice):
        response = login(alice).post(
            SETTINGS,
            {
                "save_settings": "1",
                "enterprise_min_employees": "500",
                "mid_market_min_employees": "50",
                "reps_see_all_leads": "on",
            },
        )
        assert response.status_code == 302
        with tenant_context(org):
            saved = LeadSettings.objects.get()
        assert (saved.enterprise_min_employees, saved.mid_market_min_employees, saved.reps_see_all_leads) == (
            500,
            50,
            True,
        )
        assert make_lead(org, employees=600).segment == Segment.ENTERPRISE

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            (
                {"enterprise_min_employees": "100", "mid_market_min_employees": "100"},
                "mid_market_min_employees",
            ),
            (
                {"enterprise_min_employees": "-1", "mid_market_min_employees": "10"},
                "enterprise_min_employees",
            ),
            (
                {"enterprise_min_employees": "many", "mid_market_min_employees": "10"},
                "enterprise_min_employees",
            ),
        ],
    )
    def test_bad_thresholds_are_field_errors(self, login, alice, data, field):
        response = login(alice).post(SETTINGS, {"save_settings": "1", **data})
        assert response.status_code == 200 and field in response.context["settings_form"].errors

    def test_a_country_override_moves_new_leads_region(self, login, org, alice):
        client = login(alice)
        response = client.post(SETTINGS, {"add_region": "1", "country": "TR", "region": Region.EUROPE})
        assert response.status_code == 302
        assert make_lead(org, country="TR").region == Region.EUROPE
        response = client.post(SETTINGS, {"add_region": "1", "country": "TR", "region": Region.APAC})
        assert "country" in response.context["region_form"].errors
        response = client.post(SETTINGS, {"add_region": "1", "country": "ZZ", "region": "moon"})
        assert set(response.context["region_form"].errors) == {"country", "region"}

    def test_overrides_are_removed_and_another_organizations_are_404(self, login, org, other_org, alice):
        with tenant_context(org):
            ours = CountryRegion.objects.create(organization=org, country="TR", region=Region.EUROPE)
        with tenant_context(other_org):
            theirs = CountryRegion.objects.create(organization=other_org, country="TR", region=Region.EUROPE)
        client = login(alice)
        assert client.post(f"{SETTINGS}regions/{theirs.pk}/delete/").status_code == 404
        assert client.post(f"{SETTINGS}regions/{ours.pk}/delete/").status_code == 302
        with tenant_context(org):
            assert not CountryRegion.objects.exists()

    def test_a_post_without_a_known_button_just_shows_the_page(self, login, alice):
        assert login(alice).post(SETTINGS, {"whatever": "1"}).status_code == 200


class TestCatalog:
    @pytest.mark.parametrize("kind", ["sources", "campaigns", "industries"])
    @pytest.mark.parametrize(("who", "status"), [("alice", 200), ("mike", 200), ("bob", 403), ("vera", 403)])
    def test_admins_and_managers_manage_the_catalog(self, request, login, kind, who, status):
        client = login(request.getfixturevalue(who))
        assert client.get(f"/o/acme/leads/{kind}/").status_code == status
        assert client.get(f"/o/acme/leads/{kind}/new/").status_code == status

    def test_a_source_is_created_and_its_name_is_unique_in_any_case(self, login, org, mike):
        client = login(mike)
        data = {
            "name": "Partner program",
            "channel_type": "partner_referral",
            "is_referral": "on",
            "is_inbound": "on",
        }
        assert client.post("/o/acme/leads/sources/new/", data).status_code == 302
        response = client.post("/o/acme/leads/sources/new/", {**data, "name": "partner PROGRAM"})
        assert response.status_code == 200
        assert response.context["form"].errors == {"name": ["There is already a source with this name."]}
        with tenant_context(org):
            source = Source.objects.get()
        assert (source.channel_type, source.is_referral, source.is_inbound) == (
            "partner_referral",
            True,
            True,
        )

    def test_the_same_name_in_another_organization_is_fine(self, login, org, other_org, mike):
        with tenant_context(other_org):
            Industry.objects.create(organization=other_org, name="Retail")
        assert login(mike).post("/o/acme/leads/industries/new/", {"name": "Retail"}).status_code == 302

    def test_a_campaign_takes_money_in_major_units_and_ordered_dates(self, login, org, mike):
        with tenant_context(org):
            source = Source.objects.create(organization=org, name="Events")
        client = login(mike)
        data = {
            "name": "Spring expo",
            "source": source.pk,
            "channel_type": "event",
            "start_date": "2025-03-01",
            "end_date": "2025-03-03",
            "cost": "12,500.50",
            "budget": "20000",
        }
        assert client.post("/o/acme/leads/campaigns/new/", data).status_code == 302
        with tenant_context(org):
            campaign = Campaign.objects.get()
        assert (campaign.cost, campaign.budget, campaign.source_id) == (1250050, 2000000, source.pk)
        listing = client.get("/o/acme/leads/campaigns/").content.decode()
        assert "12,500.50" in listing and "20,000.00" in listing
        edit = client.get(f"/o/acme/leads/campaigns/{campaign.pk}/")
        assert edit.context["form"]["cost"].value() == "12500.50"
        response = client.post(
            f"/o/acme/leads/campaigns/{campaign.pk}/", {**data, "end_date": "2025-02-01", "cost": "-1"}
        )
        assert set(response.context["form"].errors) == {"end_date", "cost"}

    def test_another_organizations_source_cannot_be_picked_for_a_campaign(self, login, other_org, mike):
        with tenant_context(other_org):
            foreign = Source.objects.create(organization=other_org, name="Theirs")
        response = login(mike).post(
            "/o/acme/leads/campaigns/new/",
            {"name": "X", "source": foreign.pk, "channel_type": "paid", "cost": "0", "budget": "0"},
        )
        assert "source" in response.context["form"].errors

    @pytest.mark.parametrize("kind", ["sources", "campaigns", "industries"])
    def test_another_organizations_items_are_404(self, login, other_org, mike, kind):
        model = {"sources": Source, "campaigns": Campaign, "industries": Industry}[kind]
        with tenant_context(other_org):
            foreign = model.objects.create(organization=other_org, name="Theirs")
        client = login(mike)
        assert client.get(f"/o/acme/leads/{kind}/{foreign.pk}/").status_code == 404
        assert client.post(f"/o/acme/leads/{kind}/{foreign.pk}/", {"name": "Mine now"}).status_code == 404
        assert client.get(f"/o/acme/leads/{kind}/{foreign.pk}/delete/").status_code == 404
        assert client.post(f"/o/acme/leads/{kind}/{foreign.pk}/delete/").status_code == 404

    def test_deleting_keeps_the_leads_and_spend_blocks_it(self, login, org, mike):
        with tenant_context(org):
            used = Industry.objects.create(organization=org, name="Retail")
            spent = Source.objects.create(organization=org, name="Ads")
            SpendEntry.objects.create(organization=org, spent_on=date(2025, 1, 1), amount=100, source=spent)
        lead = make_lead(org, industry=used)
        client = login(mike)
        confirm = client.get(f"/o/acme/leads/industries/{used.pk}/delete/")
        assert confirm.status_code == 200 and b"1 lead is filed under it" in confirm.content
        assert client.post(f"/o/acme/leads/industries/{used.pk}/delete/").status_code == 302
        with tenant_context(org):
            lead.refresh_from_db()
        assert lead.industry is None and lead.deleted_at is None
        response = client.post(f"/o/acme/leads/sources/{spent.pk}/delete/")
        assert _messages(response)[-1] == "“Ads” has spend entries booked on it; it cannot be deleted."
        with tenant_context(org):
            assert Source.objects.filter(pk=spent.pk).exists()
