"""StrictSerializer copies its declared fields shallowly: two serializers must still never share
per-request state (a field's parent, its organization's choices, a list's bound child)."""

from __future__ import annotations

from leads.api.serializers import BulkRequestSerializer, LeadCreateSerializer, LeadWriteSerializer
from leads.models import Source
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.roles import Role
from tests.factories import add_member


def test_each_serializer_owns_its_fields_and_its_organizations_choices(org, other_org):
    with tenant_context(org):
        acme_source = Source.objects.create(organization=org, name="Acme web")
        acme = LeadCreateSerializer(data={"company": "A", "source": acme_source.pk}, org=org)
        assert acme.is_valid(), acme.errors
        assert acme.validated_data["source"] == acme_source
    with tenant_context(other_org):
        globex = LeadCreateSerializer(data={"company": "G", "source": acme_source.pk}, org=other_org)
        assert not globex.is_valid()
        assert "source" in globex.errors
    for name in ("source", "company", "country", "email"):
        assert acme.fields[name] is not globex.fields[name]
        assert acme.fields[name].parent is acme and globex.fields[name].parent is globex
        assert LeadWriteSerializer._declared_fields[name].parent is None  # the declared one stays unbound


def test_a_list_field_and_its_child_are_copied_whole(org):
    first, second = BulkRequestSerializer(data={"items": [{}]}), BulkRequestSerializer(data={"items": [{}]})
    assert first.fields["items"] is not second.fields["items"]
    assert first.fields["items"].child is not second.fields["items"].child
    assert first.fields["items"].child.parent is first.fields["items"]


def test_a_rep_who_is_a_partner_elsewhere_may_own_a_lead_here(acme_api, org, other_org, bob):
    """The owner's choices (tenancy.selectors.internal_users, shared with the filters and the
    forms) judge the membership in this organization only."""
    add_member(other_org, bob, Role.PARTNER)
    created = acme_api.post("/api/v1/leads/", {"company": "Owned", "owner": bob.pk}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["owner"] == bob.pk
    assert acme_api.get("/api/v1/leads/", {"owner": bob.pk}).json()["results"][0]["company"] == "Owned"
