"""The shape of ``GET /api/v1/leads/{id}/score/`` (read-only), for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from leads.api.serializers import iso

from ..models import ScoreReason
from ..selectors import LeadScoreView


class ExplanationLineSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=[("fit", "fit"), ("behaviour", "behaviour")])
    points = serializers.IntegerField()
    detail = serializers.CharField()


class ScoreChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    score = serializers.IntegerField()
    previous_score = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ScoreReason.choices)


class BantSerializer(serializers.Serializer):
    budget = serializers.BooleanField()
    authority = serializers.BooleanField()
    need = serializers.BooleanField()
    timeline = serializers.BooleanField()
    required = serializers.IntegerField(help_text="How many must be ticked (the organization's BANT rule).")
    meets_criteria = serializers.BooleanField()


class LeadScoreSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    score = serializers.IntegerField(help_text="The sum of the explanation's points.")
    computed_at = serializers.DateTimeField(allow_null=True)
    explanation = ExplanationLineSerializer(many=True)
    history = ScoreChangeSerializer(many=True, help_text="The most recent changes, newest first.")
    bant = BantSerializer()


def lead_score_json(*, lead_id: int, view: LeadScoreView) -> dict:
    bant = view.bant
    return {
        "lead": lead_id,
        "score": view.score,
        "computed_at": iso(view.computed_at),
        "explanation": view.explanation,
        "history": [
            {
                "at": iso(change.at),
                "score": change.score,
                "previous_score": change.previous_score,
                "reason": change.reason,
            }
            for change in view.history
        ],
        "bant": {
            "budget": bant.budget,
            "authority": bant.authority,
            "need": bant.need,
            "timeline": bant.timeline,
            "required": view.bant_required,
            "meets_criteria": bant.ticked >= view.bant_required,
        },
    }
