"""``GET /api/v1/leads/{id}/score/``: the lead's score explained (read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from leads.api.views import READ_LEADS, LeadApiBase
from leads.selectors import lead_get

from ..selectors import lead_score_view
from . import serializers as s


class LeadScoreApi(LeadApiBase):
    access = {"GET": READ_LEADS}
    serializer_class = s.LeadScoreSerializer

    @extend_schema(
        operation_id="leads_score_retrieve",
        responses=s.LeadScoreSerializer,
        description="The rules that make up the lead's score (points after decay, adding up to the score), "
        "its recent history and its BANT checklist.",
    )
    def get(self, request: Request, lead_id: int) -> Response:
        lead = lead_get(org=self.org, membership=self.api_access.membership, lead_id=lead_id)
        return Response(s.lead_score_json(lead_id=lead.pk, view=lead_score_view(org=self.org, lead=lead)))
