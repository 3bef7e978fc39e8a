"""Leads, activities, sources, campaigns and spend over the API: parse → service/selector → JSON.

Every queryset starts from the request's organization (and, for leads, from what
the member may see), so another tenant's id is a 404 like an id that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from leads.api import serializers as s
from leads.api.filters import ActivityFilter, CampaignFilter, SourceFilter, SpendEntryFilter
from leads.filters import LeadFilter
from leads.imports.services import FAST_PATH_MIN_ROWS, leads_upsert, leads_upsert_bulk
from leads.models import Activity, Campaign, Lead, Source, SpendEntry, Via
from leads.selectors import lead_can_edit, lead_get, lead_visible_queryset
from leads.services import (
    activity_log,
    lead_create,
    lead_delete,
    lead_lawful_basis_set,
    lead_marketing_withdraw,
    lead_update,
)
from leadtrack.api.base import (
    IDEMPOTENCY_PARAMETER,
    IF_MATCH_PARAMETER,
    OrgApiView,
    etag_for,
    version_from_if_match,
)
from leadtrack.api.models import Scope

READ_LEADS = ("leads.view", Scope.READ)
SEARCH_PARAMETER = OpenApiParameter(
    "search",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Words matching the name, company or e-mail.",
)


def lead_response(lead: Lead, *, status_code: int = status.HTTP_200_OK) -> Response:
    response = Response(s.lead_instance_json(lead), status=status_code)
    response["ETag"] = etag_for(lead.version)
    if status_code == status.HTTP_201_CREATED:
        response["Location"] = f"/api/v1/leads/{lead.pk}/"
    return response


class LeadApiBase(OrgApiView):
    queryset = Lead.unscoped.none()  # names the model for the schema; reads go through selectors

    def visible_leads(self) -> QuerySet[Lead]:
        return lead_visible_queryset(org=self.org, membership=self.api_access.membership)

    def editable_lead(self, lead_id: int) -> Lead:
        """A lead the caller may change: invisible → 404, visible but not theirs to edit → 403."""
        lead = lead_get(org=self.org, membership=self.api_access.membership, lead_id=lead_id)
        if not lead_can_edit(membership=self.api_access.membership, lead=lead):
            raise PermissionDenied("You may not change this lead.")
        return lead


class LeadListApi(LeadApiBase):
    access = {"GET": READ_LEADS, "POST": ("leads.create", Scope.WRITE)}
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadFilter
    ordering_fields = ("created_at", "updated_at")
    serializer_class = s.LeadSerializer

    @extend_schema(
        operation_id="leads_list", responses=s.LeadSerializer(many=True), parameters=[SEARCH_PARAMETER]
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if "search" in params:
            params = params.copy()  # a deep copy of every parameter: only when one is renamed
            params["q"] = params.pop("search")[-1]
        queryset = self.filter_or_400(LeadFilter, self.visible_leads(), data=params, organization=self.org)
        page = self.paginator.paginate_queryset(queryset.values(*s.LEAD_VALUES), request, view=self)
        return self.paginator.get_paginated_response(s.lead_page_json(page))

    @extend_schema(
        operation_id="leads_create",
        request=s.LeadCreateSerializer,
        responses={201: s.LeadSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        serializer = s.LeadCreateSerializer(data=request.data, org=self.org)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        withdrawn = data.pop("marketing_withdrawn", False)
        lead = lead_create(
            org=self.org,
            actor=self.api_access.actor,
            data=data,
            via=Via.API,
            lawful_basis=data.pop("lawful_basis", None),
        )
        if withdrawn:
            lead = lead_marketing_withdraw(
                org=self.org, actor=self.api_access.actor, lead_id=lead.pk, via=Via.API, source="API"
            )
        return lead_response(lead, status_code=status.HTTP_201_CREATED)


class LeadDetailApi(LeadApiBase):
    access = {
        "GET": READ_LEADS,
        "PATCH": ("leads.edit", Scope.WRITE),
        "DELETE": ("leads.delete", Scope.WRITE),
    }
    serializer_class = s.LeadSerializer

    @extend_schema(operation_id="leads_retrieve", responses=s.LeadSerializer)
    def get(self, request: Request, lead_id: int) -> Response:
        return lead_response(lead_get(org=self.org, membership=self.api_access.membership, lead_id=lead_id))

    @extend_schema(
        operation_id="leads_partial_update",
        request=s.LeadWriteSerializer,
        responses=s.LeadSerializer,
        parameters=[IF_MATCH_PARAMETER],
    )
    def patch(self, request: Request, lead_id: int) -> Response:
        lead = self.editable_lead(lead_id)
        serializer = s.LeadWriteSerializer(data=request.data, org=self.org, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lawful_basis, withdrawn = data.pop("lawful_basis", None), data.pop("marketing_withdrawn", False)
        actor = self.api_access.actor
        lead = lead_update(
            org=self.org,
            actor=actor,
            lead_id=lead.pk,
            data=data,
            expected_version=version_from_if_match(request),
            via=Via.API,
        )
        if lawful_basis:
            lead = lead_lawful_basis_set(
                org=self.org, actor=actor, lead_id=lead.pk, lawful_basis=lawful_basis, via=Via.API
            )
        if withdrawn:
            lead = lead_marketing_withdraw(
                org=self.org, actor=actor, lead_id=lead.pk, via=Via.API, source="API"
            )
        return lead_response(lead)

    @extend_schema(operation_id="leads_destroy", responses={204: None})
    def delete(self, request: Request, lead_id: int) -> Response:
        lead = lead_get(org=self.org, membership=self.api_access.membership, lead_id=lead_id)
        lead_delete(org=self.org, actor=self.api_access.actor, lead_id=lead.pk, via=Via.API)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _visible_activities(view: LeadApiBase) -> QuerySet[Activity]:
    return Activity.objects.filter(organization=view.org, lead__in=view.visible_leads())


class LeadActivityListApi(LeadApiBase):
    access = {"GET": READ_LEADS, "POST": ("leads.edit", Scope.WRITE)}
    serializer_class = s.ActivitySerializer
    ordering_fields = ("created_at", "occurred_at")

    @extend_schema(operation_id="leads_activities_list", responses=s.ActivitySerializer(many=True))
    def get(self, request: Request, lead_id: int) -> Response:
        lead = lead_get(org=self.org, membership=self.api_access.membership, lead_id=lead_id)
        queryset = Activity.objects.filter(organization=self.org, lead=lead).values(*s.ACTIVITY_VALUES)
        page = self.paginator.paginate_queryset(queryset, request, view=self)
        return self.paginator.get_paginated_response([s.activity_json(row) for row in page])

    @extend_schema(
        operation_id="leads_activities_create",
        request=s.ActivityCreateSerializer,
        responses={201: s.ActivitySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def post(self, request: Request, lead_id: int) -> Response:
        lead = self.editable_lead(lead_id)
        serializer = s.ActivityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = activity_log(
            org=self.org,
            actor=self.api_access.actor,
            lead_id=lead.pk,
            via=Via.API,
            **serializer.validated_data,
        )
        return Response(s.activity_instance_json(activity), status=status.HTTP_201_CREATED)


class ActivityListApi(LeadApiBase):
    access = {"GET": READ_LEADS}
    queryset = Activity.unscoped.none()
    serializer_class = s.ActivitySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActivityFilter
    ordering_fields = ("created_at", "occurred_at")

    @extend_schema(operation_id="activities_list", responses=s.ActivitySerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = self.filter_or_400(ActivityFilter, _visible_activities(self), organization=self.org)
        page = self.paginator.paginate_queryset(queryset.values(*s.ACTIVITY_VALUES), request, view=self)
        return self.paginator.get_paginated_response([s.activity_json(row) for row in page])


class ActivityDetailApi(LeadApiBase):
    access = {"GET": READ_LEADS}
    queryset = Activity.unscoped.none()
    serializer_class = s.ActivitySerializer

    @extend_schema(operation_id="activities_retrieve", responses=s.ActivitySerializer)
    def get(self, request: Request, activity_id: int) -> Response:
        row = _visible_activities(self).values(*s.ACTIVITY_VALUES).get(pk=activity_id)
        return Response(s.activity_json(row))


class _PlainResourceApi(OrgApiView):
    """Small read-only resources: a filtered, cursor-paginated list and a detail."""

    values: tuple[str, ...] = ()
    ordering = ("id",)

    def base_queryset(self) -> QuerySet:
        return self.queryset.model.objects.filter(organization=self.org)

    def list_response(self, request: Request) -> Response:
        queryset = self.filter_or_400(self.filterset_class, self.base_queryset(), organization=self.org)
        page = self.paginator.paginate_queryset(queryset.values(*self.values), request, view=self)
        return self.paginator.get_paginated_response([s.plain_json(row) for row in page])

    def detail_response(self, pk: int) -> Response:
        return Response(s.plain_json(self.base_queryset().values(*self.values).get(pk=pk)))


READ_MARKETING = ("leads.view", Scope.READ)
READ_SPEND = ("dashboards.view", Scope.READ)


class SourceListApi(_PlainResourceApi):
    access = {"GET": READ_MARKETING}
    queryset = Source.unscoped.none()
    serializer_class = s.SourceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SourceFilter
    values = s.SOURCE_VALUES

    @extend_schema(operation_id="sources_list", responses=s.SourceSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.list_response(request)


class SourceDetailApi(_PlainResourceApi):
    access = {"GET": READ_MARKETING}
    queryset = Source.unscoped.none()
    serializer_class = s.SourceSerializer
    values = s.SOURCE_VALUES

    @extend_schema(operation_id="sources_retrieve", responses=s.SourceSerializer)
    def get(self, request: Request, source_id: int) -> Response:
        return self.detail_response(source_id)


class CampaignListApi(_PlainResourceApi):
    access = {"GET": READ_MARKETING}
    queryset = Campaign.unscoped.none()
    serializer_class = s.CampaignSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CampaignFilter
    values = s.CAMPAIGN_VALUES

    @extend_schema(operation_id="campaigns_list", responses=s.CampaignSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.list_response(request)


class CampaignDetailApi(_PlainResourceApi):
    access = {"GET": READ_MARKETING}
    queryset = Campaign.unscoped.none()
    serializer_class = s.CampaignSerializer
    values = s.CAMPAIGN_VALUES

    @extend_schema(operation_id="campaigns_retrieve", responses=s.CampaignSerializer)
    def get(self, request: Request, campaign_id: int) -> Response:
        return self.detail_response(campaign_id)


class SpendEntryListApi(_PlainResourceApi):
    access = {"GET": READ_SPEND}
    queryset = SpendEntry.unscoped.none()
    serializer_class = s.SpendEntrySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SpendEntryFilter
    values = s.SPEND_VALUES

    @extend_schema(operation_id="spend_list", responses=s.SpendEntrySerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.list_response(request)


class SpendEntryDetailApi(_PlainResourceApi):
    access = {"GET": READ_SPEND}
    queryset = SpendEntry.unscoped.none()
    serializer_class = s.SpendEntrySerializer
    values = s.SPEND_VALUES

    @extend_schema(operation_id="spend_retrieve", responses=s.SpendEntrySerializer)
    def get(self, request: Request, spend_id: int) -> Response:
        return self.detail_response(spend_id)


class LeadBulkApi(LeadApiBase):
    """Upsert up to settings.API_BULK_MAX_ITEMS leads through the importer's shared service."""

    access = {"POST": ("leads.import", Scope.WRITE)}
    serializer_class = s.BulkResponseSerializer

    @extend_schema(
        operation_id="leads_bulk_upsert",
        request=s.BulkRequestSerializer,
        responses={200: s.BulkResponseSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Create or update many leads: an item matching a live lead by `match_on` updates it, "
            "otherwise it is created; one result per item, in order. A bad item does not stop the "
            "others unless `all_or_nothing`. Stage and dates need a key with the `import` scope.\n\n"
            "Lost updates: an item may carry `version`, the lead's version as you read it (its `version` "
            "field, the number in its ETag). It then updates its matched lead only if that is still the "
            "lead's version; otherwise its result is `error` with `errors.version` (and the lead's "
            "`lead_id`) and the lead is not changed: read it again and retry. An item with `version` that "
            "matches no live lead is an `error` on `version` too, never a new lead. Items without "
            "`version` update the matched lead whatever it holds now (last write wins)."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = s.BulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        converted = [s.bulk_row(item, org=self.org) for item in data["items"]]
        # An item refused here goes to the service as an empty row (which fails there too, so
        # all-or-nothing holds); its result then carries the reason given here.
        rows = [{} if errors else row for row, errors in converted]
        upsert = leads_upsert_bulk if len(rows) >= FAST_PATH_MIN_ROWS else leads_upsert
        results = upsert(
            org=self.org,
            actor=self.api_access.actor,
            rows=rows,
            via=Via.API,
            match_on=tuple(data["match_on"]),
            allow_history=self.api_access.has_scope(Scope.IMPORT),
            all_or_nothing=data["all_or_nothing"],
        )
        items = []
        for result, (_, errors) in zip(results, converted, strict=True):
            item_errors = errors or {
                ("non_field_errors" if field == NON_FIELD_ERRORS else field): list(messages)
                for field, messages in result.errors.items()
            }
            items.append(
                {
                    "index": result.index,
                    "status": "error" if errors else result.status,
                    "lead_id": None if errors else result.lead_id,
                    "errors": item_errors,
                }
            )
        summary = dict.fromkeys(("created", "updated", "duplicate", "error"), 0)
        for item in items:
            summary[item["status"]] += 1
        return Response({"results": items, "summary": summary})
