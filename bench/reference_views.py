"""Django references for the benchmark: what the same work costs done plainly.

No authentication and no DRF: the organization comes from the URL. They still
run as the application role inside tenant_context (one transaction, the RLS
setting), because that is the floor every product request pays too.
"""

from __future__ import annotations

import json
from functools import cache

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.sql import FORMER_LIST_FIELDS, LIST_FIELDS, SUMMARY_TABLE
from funnel.models import StageTransition
from funnel.stages import Stage
from leads.models import Lead, Via
from leadtrack.audit.models import Action, AuditEvent
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

CREATE_FIELDS = ("company", "contact_name", "email", "phone", "job_title", "website", "country", "employees")


@cache
def _organization(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


def _page(
    org: Organization, request: HttpRequest, size: int, fields: tuple[str, ...] = LIST_FIELDS
) -> list[dict]:
    queryset = Lead.objects.filter(deleted_at__isnull=True)
    if request.GET.get("stage"):
        queryset = queryset.filter(stage=request.GET["stage"])
    return list(queryset.order_by("-created_at", "-id").values(*fields)[:size])


def lead_list(request: HttpRequest, org_slug: str, fields: tuple[str, ...] = LIST_FIELDS) -> JsonResponse:
    """Reference of the API lead list: the ORM's ``.values()`` of the API's fields and ``JsonResponse``."""
    org = _organization(org_slug)
    size = min(int(request.GET.get("page_size", 50)), 100)
    with tenant_context(org):
        rows = _page(org, request, size, fields)
    return JsonResponse({"results": rows})


def lead_list_former(request: HttpRequest, org_slug: str) -> JsonResponse:
    """The list reference as it was until 2026-11-26: 15 of the lead's 34 fields (information)."""
    return lead_list(request, org_slug, FORMER_LIST_FIELDS)


def _create_fields(request: HttpRequest) -> dict:
    data = json.loads(request.body)
    return {k: data[k] for k in CREATE_FIELDS if k in data}


def _created(lead: Lead) -> JsonResponse:
    values = {k: getattr(lead, k) for k in CREATE_FIELDS}
    values["country"] = str(values["country"])  # a django-countries Country: its code
    return JsonResponse({"id": lead.pk, **values}, status=201)


@csrf_exempt
def lead_create(request: HttpRequest, org_slug: str) -> JsonResponse:
    """Reference of the API create: ``objects.create`` without validation, and ``JsonResponse``."""
    org = _organization(org_slug)
    with tenant_context(org):
        lead = Lead.objects.create(organization=org, **_create_fields(request))
    return _created(lead)


@csrf_exempt
def lead_create_with_rows(request: HttpRequest, org_slug: str) -> JsonResponse:
    """Information: ``lead_create`` plus the two rows every product create also writes.

    The stage transition into the funnel and the audit event (D14) join the lead's transaction,
    through ``objects.create``, without validation: what those writes cost on their own.
    """
    org = _organization(org_slug)
    fields = _create_fields(request)
    with tenant_context(org):
        lead = Lead.objects.create(organization=org, **fields)
        StageTransition.objects.create(
            organization=org, lead=lead, from_stage="", to_stage=Stage.LEAD, at=lead.created_at, via=Via.API
        )
        AuditEvent.objects.create(
            organization=org,
            action=Action.LEAD_CREATE,
            via=Via.API,
            object_type="lead",
            object_id=lead.pk,
            target=lead.company,
            details={"fields": sorted(fields)},
        )
    return _created(lead)


class LeadModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ("id", *CREATE_FIELDS)


class LeadCreateDrfDefault(APIView):
    """Information: what a team would otherwise pick, DRF's ``ModelSerializer`` create.

    No authentication, throttling, routing, audit or stage transition. docs/performance.md §2.4
    measured it at 1.67× the ``objects.create`` reference, on a 15-column lead without row-level
    security, in a startproject stack.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request: Request, org_slug: str) -> Response:
        org = _organization(org_slug)
        serializer = LeadModelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with tenant_context(org):
            serializer.save(organization=org)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


def lead_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Reference of a server-rendered lead list: one row set, a plain template."""
    org = _organization(org_slug)
    with tenant_context(org):
        rows = _page(org, request, 50)
    return render(request, "bench/leads.html", {"org": org, "rows": rows})


def dashboard_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Reference of a dashboard: a template reading one precomputed row set (the nightly summary)."""
    org = _organization(org_slug)
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, sum(leads), sum(reached_mql), sum(reached_sql), sum(reached_opportunity), "
            f"sum(won), sum(won_amount) FROM {SUMMARY_TABLE} WHERE organization_id = %s "
            "GROUP BY month ORDER BY month DESC",
            [org.pk],
        )
        months = [
            {
                "month": month,
                "leads": leads,
                "mql": mql,
                "sql": sql,
                "opportunity": opportunity,
                "won": won,
                "won_amount": won_amount / 100,
                "conversion": (won / leads) if leads else None,
            }
            for month, leads, mql, sql, opportunity, won, won_amount in cursor.fetchall()
        ]
    return render(request, "bench/dashboard.html", {"org": org, "months": months})
