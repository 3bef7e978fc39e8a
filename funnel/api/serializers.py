"""Stage moves over the API: the same stage service as the board."""

from __future__ import annotations

from rest_framework import serializers

from funnel.stages import Stage
from leads.api.serializers import BIGINT_MAX, StrictSerializer


class TransitionCreateSerializer(StrictSerializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    amount = serializers.IntegerField(
        min_value=0, max_value=BIGINT_MAX, required=False, allow_null=True, default=None
    )
    expected_stage = serializers.ChoiceField(
        choices=Stage.choices, required=False, allow_null=True, default=None
    )


class TransitionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    from_stage = serializers.CharField()
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    at = serializers.DateTimeField()
    reason = serializers.CharField()
    via = serializers.CharField()
    lead_version = serializers.IntegerField(source="lead.version")
