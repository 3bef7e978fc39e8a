"""G4: retention — leads past the organization's period are anonymised through the erasure
path; the run is idempotent; off by default. Fixed clock (``now=``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from leads.models import ActivityKind, Lead
from leads.services import activity_log
from leadtrack.privacy.models import ErasedLead, ErasureLog, ErasureReason
from leadtrack.privacy.selectors import privacy_settings_get
from leadtrack.privacy.services import privacy_settings_update, retention_run
from leadtrack.privacy.tasks import retention_fanout
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _lead(org, alice, name: str, **dates):
    lead = make_lead(
        org, actor=alice, company=f"{name} Co", contact_name=name, email=f"{name.lower()}@r.example"
    )
    with tenant_context(org):
        # Dates in the past: set as a migration from another CRM would leave them.
        Lead.objects.filter(pk=lead.pk).update(**dates)
    return lead.pk


@pytest.fixture
def aged(org, alice):
    old = datetime(2025, 3, 1, tzinfo=UTC)
    leads = {
        "closed": _lead(
            org, alice, "Closed", closed_at=datetime(2025, 1, 10, tzinfo=UTC), updated_at=NOW, stage="lost"
        ),
        "untouched": _lead(org, alice, "Untouched", updated_at=old),
        "recent_activity": _lead(org, alice, "Active", updated_at=old),
        "recent": _lead(org, alice, "Recent", updated_at=datetime(2026, 5, 1, tzinfo=UTC)),
    }
    with tenant_context(org):
        activity_log(
            org=org,
            actor=alice,
            lead_id=leads["recent_activity"],
            kind=ActivityKind.CALL,
            occurred_at=datetime(2026, 5, 2, tzinfo=UTC),
        )
        Lead.objects.filter(pk=leads["recent_activity"]).update(updated_at=old)
    return leads


def test_retention_is_off_by_default(org, aged):
    with tenant_context(org):
        assert privacy_settings_get(org=org).retention_months is None
        assert retention_run(org=org, now=NOW) is None
        assert not ErasedLead.objects.exists()


def test_it_anonymises_leads_past_retention_once(org, other_org, charlie, aged):
    globex_old = make_lead(other_org, actor=charlie, contact_name="Old Globex", email="old@globex.example")
    with tenant_context(other_org):
        Lead.objects.filter(pk=globex_old.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    with tenant_context(org):
        privacy_settings_update(org=org, actor=None, retention_months=12)
        first = retention_run(org=org, now=NOW)
        second = retention_run(org=org, now=NOW)
        anonymised = set(ErasedLead.objects.values_list("lead_id", flat=True))
        emails = dict(Lead.objects.values_list("pk", "email"))
        # A year later the lead called in May 2026 and the one edited then are due as well.
        third = retention_run(org=org, now=datetime(2027, 6, 1, 12, tzinfo=UTC))
        reasons = list(ErasureLog.objects.values_list("reason", flat=True))

    assert first.lead_count == 2 and first.counts["leads.leads"] == 2
    assert second is None
    assert anonymised == {aged["closed"], aged["untouched"]}
    assert emails[aged["closed"]] == "" and emails[aged["untouched"]] == ""
    assert (
        emails[aged["recent_activity"]] == "active@r.example" and emails[aged["recent"]] == "recent@r.example"
    )
    assert third.lead_count == 2
    assert reasons == [ErasureReason.RETENTION, ErasureReason.RETENTION]
    with tenant_context(other_org):
        assert Lead.objects.get(pk=globex_old.pk).email == "old@globex.example"
    print(
        f"\n[G4] rows_anonymised={first.lead_count} second_run=0 a_year_later={third.lead_count} other_org=0"
    )


def test_the_fanout_runs_every_organization_and_does_nothing_where_retention_is_off(org, other_org, aged):
    assert retention_fanout() == [org.pk, other_org.pk]
    with tenant_context(org):
        assert not ErasureLog.objects.exists()


def test_retention_must_be_a_positive_number_of_months(org):
    with tenant_context(org), pytest.raises(ValidationError) as caught:
        privacy_settings_update(org=org, actor=None, retention_months=0)
    assert "retention_months" in caught.value.message_dict
