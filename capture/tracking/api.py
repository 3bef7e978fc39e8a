"""API of tracking: server-side events and identification (/api/v1/tracking/...)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from capture.signals import visitor_identified
from capture.tracking import selectors, services
from capture.tracking.models import TrackingSite
from leads.selectors import lead_visible_queryset
from leadtrack.api.base import IDEMPOTENCY_PARAMETER, OrgApiView
from leadtrack.api.models import Scope


class TrackingEventSerializer(serializers.Serializer):
    """One page view, as the tracking script sends it, plus the server-side extras."""

    event_id = serializers.RegexField(
        services.ID_PATTERN, help_text="Unique per event: a retry is stored once."
    )
    visitor_id = serializers.RegexField(
        services.ID_PATTERN, help_text="The visitor's id (the `lt_vid` cookie)."
    )
    url = serializers.URLField(max_length=2000)
    referrer = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    utm_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_term = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_content = serializers.CharField(max_length=200, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(
        required=False, help_text="Default: when received. At most 7 days old, never in the future."
    )
    ip = serializers.IPAddressField(
        required=False, help_text="The visitor's address; truncated (/24, /48) before it is stored."
    )


class TrackingEventsInputSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=64, help_text="The tracking site's key (ts_…).")
    events = TrackingEventSerializer(many=True, min_length=1, max_length=services.MAX_EVENTS_PER_API_CALL)


class TrackingEventsOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()


class TrackingIdentifyInputSerializer(serializers.Serializer):
    visitor_id = serializers.RegexField(services.ID_PATTERN, help_text="The `lt_vid` cookie's value.")
    lead_id = serializers.IntegerField(required=False, min_value=1)
    email = serializers.EmailField(required=False, help_text="Instead of lead_id: the lead with this e-mail.")

    def validate(self, attrs):
        if ("lead_id" in attrs) == ("email" in attrs):
            raise serializers.ValidationError({"lead_id": ["Give either lead_id or email."]})
        return attrs


class TrackingIdentifyOutputSerializer(serializers.Serializer):
    visitor_id = serializers.CharField()
    lead_id = serializers.IntegerField()
    page_visits = serializers.IntegerField(help_text="The visitor's page views now on the lead's timeline.")


class TrackingEventsApi(OrgApiView):
    """Page views sent by a server (a site that renders pages server-side, a proxy)."""

    access = {"POST": ("tracking.manage", Scope.WRITE)}
    InputSerializer = TrackingEventsInputSerializer
    OutputSerializer = TrackingEventsOutputSerializer

    @extend_schema(
        operation_id="tracking_events_create",
        request=InputSerializer,
        responses={202: OutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Events are validated at once and written to page views within seconds; "
        "events of an identified visitor become page visits on the lead's timeline.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = (
            selectors.sites_for_org(org=self.org)
            .filter(key=data.validated_data["site"], is_active=True)
            .first()
        )
        if site is None:
            raise exceptions.ValidationError({"site": ["No such tracking site."]})
        info = selectors.SiteInfo(
            site_id=site.pk,
            organization_id=site.organization_id,
            key=site.key,
            allowed_domains=tuple(site.allowed_domains),
            honour_do_not_track=site.honour_do_not_track,
            require_consent=site.require_consent,
        )
        try:
            accepted = services.events_accept(
                site=info,
                events=[dict(event) for event in request.data["events"]],
                ip=None,
                batch=True,
                server_side=True,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from exc
        return Response({"accepted": accepted}, status=status.HTTP_202_ACCEPTED)


class TrackingIdentifyApi(OrgApiView):
    """The visitor is this lead: its earlier page views go onto the lead's timeline."""

    access = {"POST": ("tracking.manage", Scope.WRITE)}

    InputSerializer = TrackingIdentifyInputSerializer
    OutputSerializer = TrackingIdentifyOutputSerializer

    @extend_schema(
        operation_id="tracking_identify",
        request=InputSerializer,
        responses={200: OutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        leads = lead_visible_queryset(org=self.org, membership=self.api_access.membership).filter(
            deleted_at__isnull=True
        )
        if "lead_id" in data.validated_data:
            lead = leads.filter(pk=data.validated_data["lead_id"]).first()
        else:
            lead = (
                leads.filter(email__iexact=data.validated_data["email"]).order_by("created_at", "id").first()
            )
        if lead is None:
            raise exceptions.NotFound("No such lead.")
        visitor_id = data.validated_data["visitor_id"]
        visitor_identified.send(
            sender=TrackingSite,
            organization_id=self.org.pk,
            lead_id=lead.pk,
            visitor_id=visitor_id,
            via="api",
        )
        return Response(
            {
                "visitor_id": visitor_id,
                "lead_id": lead.pk,
                "page_visits": selectors.visitor_page_visit_count(org=self.org, visitor_id=visitor_id),
            }
        )
