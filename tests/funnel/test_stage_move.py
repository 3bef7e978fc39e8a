from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from funnel.models import StageTransition
from funnel.services import StageConflictError, stage_move
from funnel.stages import Stage
from leads.models import Lead
from leads.services import StaleLeadError
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead


def _move(org, lead, to, **kwargs):
    with tenant_context(org):
        return stage_move(org=org, actor=None, lead_id=lead.pk, to_stage=to, **kwargs)


def _fresh(org, lead) -> Lead:
    with tenant_context(org):
        return Lead.objects.get(pk=lead.pk)


class TestRules:
    def test_a_forward_move_sets_its_timestamp_and_logs_a_transition(self, org, bob):
        lead = make_lead(org, actor=bob, contact_name="Ann")
        transition = _move(org, lead, Stage.MQL, reason="downloaded the whitepaper")
        lead = _fresh(org, lead)
        assert lead.stage == Stage.MQL and lead.reached_mql_at == transition.at
        with tenant_context(org):
            log = list(
                StageTransition.objects.filter(lead=lead).order_by("at").values_list("from_stage", "to_stage")
            )
        assert log == [("", Stage.LEAD), (Stage.LEAD, Stage.MQL)]

    def test_a_skip_counts_as_reaching_every_skipped_stage_at_the_jump(self, org):
        lead = make_lead(org, expected_amount=50_000)
        transition = _move(org, lead, Stage.OPPORTUNITY)
        lead = _fresh(org, lead)
        assert lead.reached_mql_at == lead.reached_sql_at == lead.reached_opportunity_at == transition.at

    def test_won_from_an_open_stage_reaches_every_rung_and_closes(self, org):
        lead = make_lead(org)
        transition = _move(org, lead, Stage.WON, amount=12_000)
        lead = _fresh(org, lead)
        assert (lead.stage, lead.won_amount, lead.closed_at) == (Stage.WON, 12_000, transition.at)
        assert lead.reached_opportunity_at == transition.at

    @pytest.mark.parametrize(
        ("path", "target", "field"),
        [
            ([], Stage.LOST, "to_stage"),  # lost closes an opportunity only
            ([Stage.MQL], Stage.LEAD, "to_stage"),  # no backwards move among open stages
            ([], Stage.DISQUALIFIED, "reason"),
            ([], Stage.OPPORTUNITY, "amount"),
            ([], "nonsense", "to_stage"),
        ],
    )
    def test_a_move_the_funnel_forbids_is_a_field_error_and_writes_nothing(self, org, path, target, field):
        lead = make_lead(org)
        for stage in path:
            _move(org, lead, stage)
        before = _fresh(org, lead)
        with pytest.raises(ValidationError) as caught:
            _move(org, lead, target)
        assert field in caught.value.message_dict
        after = _fresh(org, lead)
        assert (after.stage, after.version) == (before.stage, before.version)

    def test_won_is_final(self, org):
        lead = make_lead(org)
        _move(org, lead, Stage.WON, amount=1)
        with pytest.raises(ValidationError):
            _move(org, lead, Stage.LEAD)

    def test_a_recycled_lead_keeps_its_funnel_timestamps(self, org):
        lead = make_lead(org)
        first = _move(org, lead, Stage.SQL)
        _move(org, lead, Stage.DISQUALIFIED, reason="no budget")
        _move(org, lead, Stage.LEAD, reason="budget next year")
        again = _move(org, lead, Stage.SQL)
        lead = _fresh(org, lead)
        assert lead.reached_sql_at == first.at < again.at

    def test_dated_moves_are_checked_against_the_clock_and_the_history(self, org):
        created = timezone.now() - timedelta(days=30)
        with tenant_context(org):
            from leads.services import lead_create

            lead = lead_create(org=org, actor=None, data={"company": "Dated"}, created_at=created)
        with pytest.raises(ValidationError, match="future"):
            _move(org, lead, Stage.MQL, at=timezone.now() + timedelta(hours=1))
        with pytest.raises(ValidationError, match="before the lead was created"):
            _move(org, lead, Stage.MQL, at=created - timedelta(days=1))
        _move(org, lead, Stage.SQL, at=created + timedelta(days=10))
        with pytest.raises(ValidationError, match="last stage change"):
            _move(org, lead, Stage.OPPORTUNITY, at=created + timedelta(days=5), amount=10)
        assert _fresh(org, lead).reached_mql_at == created + timedelta(days=10)

    def test_a_caller_with_a_stale_view_gets_a_conflict(self, org, bob):
        lead = make_lead(org)
        _move(org, lead, Stage.MQL)
        with pytest.raises(StageConflictError, match="moved to MQL"):
            _move(org, lead, Stage.SQL, expected_stage=Stage.LEAD)
        with pytest.raises(StaleLeadError):
            _move(org, lead, Stage.SQL, expected_version=1)

    def test_another_organizations_lead_does_not_exist(self, org, other_org):
        lead = make_lead(other_org)
        with pytest.raises(Lead.DoesNotExist):
            _move(org, lead, Stage.MQL)


@pytest.mark.django_db(transaction=True)
def test_two_reps_moving_the_same_lead_at_once_one_wins_and_nothing_is_half_written(org):
    """D3 (one round per pair of racers, 20 rounds): exactly one transition per success."""
    rounds, illegal = 20, 0
    for _ in range(rounds):
        lead = make_lead(org, company=f"Race {_}")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def racer(target: str, lead=lead, barrier=barrier, outcomes=outcomes) -> None:
            try:
                barrier.wait()
                _move(org, lead, target, expected_stage=Stage.LEAD)
                outcomes.append("moved")
            except StageConflictError:
                outcomes.append("conflict")
            finally:
                connection.close()

        threads = [threading.Thread(target=racer, args=(t,)) for t in (Stage.MQL, Stage.SQL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with tenant_context(org):
            moves = StageTransition.objects.filter(lead_id=lead.pk).exclude(from_stage="").count()
            final = Lead.objects.get(pk=lead.pk)
        illegal += sorted(outcomes) != ["conflict", "moved"] or moves != 1 or final.version != 2
    print(f"\n[D3] rounds={rounds} illegal={illegal}")
    assert illegal == 0
