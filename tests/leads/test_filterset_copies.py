"""leadtrack.filters.FilterSet copies shallowly: two requests must still never share per-request state
(another organization's choices, a method bound to another FilterSet, a form field)."""

from __future__ import annotations

from django.http import QueryDict

from leads.filters import LeadFilter
from leads.models import Lead, Source
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead


def test_each_filterset_owns_its_filters_choices_and_form(org, other_org):
    with tenant_context(org):
        acme_source = Source.objects.create(organization=org, name="Acme web")
        acme = LeadFilter({"source": acme_source.pk}, queryset=Lead.objects.all(), organization=org)
        assert acme.is_valid()
    with tenant_context(other_org):
        globex_source = Source.objects.create(organization=other_org, name="Globex web")
        globex = LeadFilter({"source": acme_source.pk}, queryset=Lead.objects.all(), organization=other_org)
        # Acme's source is not a choice in Globex's filter, even though Acme's filter was built first.
        assert not globex.is_valid()
        assert "source" in globex.errors
    assert acme.filters["source"] is not globex.filters["source"]
    assert acme.filters["source"].extra is not globex.filters["source"].extra
    assert acme.form.fields["source"] is not globex.form.fields["source"]
    with tenant_context(org):
        assert list(acme.form.fields["source"].queryset) == [acme_source]
    with tenant_context(other_org):
        assert list(globex.form.fields["source"].queryset) == [globex_source]
    assert "_field" not in LeadFilter.base_filters["source"].__dict__


def test_method_filters_run_on_their_own_filterset(org, other_org):
    make_lead(org, company="Searchable Acme")
    make_lead(other_org, company="Searchable Globex")
    with tenant_context(org):
        first = LeadFilter({"q": "searchable"}, queryset=Lead.objects.all(), organization=org)
        assert first.filters["q"].filter.f is first.filters["q"]
        assert [lead.company for lead in first.qs] == ["Searchable Acme"]
    with tenant_context(other_org):
        second = LeadFilter({"q": "searchable"}, queryset=Lead.objects.all(), organization=other_org)
        assert second.filters["q"].filter.f is second.filters["q"]
        assert [lead.company for lead in second.qs] == ["Searchable Globex"]


def test_given_only_builds_the_named_filters_and_filters_as_the_full_form_does(org):
    mql = make_lead(org, company="Early MQL")
    make_lead(org, company="Lead")
    data = QueryDict("stage=mql&score_min=0&reached=mql&reached_from=2000-01-01")
    with tenant_context(org):
        Lead.objects.filter(pk=mql.pk).update(stage="mql", reached_mql_at=mql.created_at)
        full = LeadFilter(data, queryset=Lead.objects.all(), organization=org)
        given = LeadFilter(data, queryset=Lead.objects.all(), organization=org, given_only=True)
        assert full.is_valid(), full.errors
        assert given.is_valid(), given.errors
        assert sorted(given.form.fields) == ["reached", "reached_from", "score_min", "stage"]
        assert len(full.form.fields) == len(LeadFilter.base_filters)
        assert [lead.company for lead in given.qs] == [lead.company for lead in full.qs] == ["Early MQL"]
        # A named filter is still validated: a bad value is a field error, not an ignored parameter.
        bad = LeadFilter(
            QueryDict("stage=nope&created_to=9999-12-31"),
            queryset=Lead.objects.all(),
            organization=org,
            given_only=True,
        )
        assert not bad.is_valid()
        assert sorted(bad.errors) == ["created_to", "stage"]
