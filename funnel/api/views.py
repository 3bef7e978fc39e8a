"""``POST /api/v1/leads/{id}/transitions/``: validated here, moved by funnel.services.stage_move."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from funnel.api import serializers as s
from funnel.services import stage_move
from leads.api.views import LeadApiBase
from leads.models import Via
from leadtrack.api.base import IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER, etag_for, version_from_if_match
from leadtrack.api.models import Scope


class LeadTransitionApi(LeadApiBase):
    access = {"POST": ("leads.edit", Scope.WRITE)}
    serializer_class = s.TransitionSerializer

    @extend_schema(
        operation_id="leads_transitions_create",
        request=s.TransitionCreateSerializer,
        responses={201: s.TransitionSerializer},
        parameters=[IF_MATCH_PARAMETER, IDEMPOTENCY_PARAMETER],
        description="Move the lead to another stage through the funnel's stage service (the board's rules).",
    )
    def post(self, request: Request, lead_id: int) -> Response:
        lead = self.editable_lead(lead_id)
        serializer = s.TransitionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transition = stage_move(
            org=self.org,
            actor=self.api_access.actor,
            lead_id=lead.pk,
            expected_version=version_from_if_match(request),
            via=Via.API,
            **serializer.validated_data,
        )
        response = Response(s.TransitionSerializer(transition).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag_for(transition.lead.version)
        return response
