"""/api/v1/: the resources of each app, the OpenAPI schema and its docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from capture.tracking.api import TrackingEventsApi, TrackingIdentifyApi
from funnel.scoring.api.views import LeadScoreApi
from leadtrack.api import endpoints
from reports.quarterly.api import QuarterlyReferralReportApi

# The schema and docs are public (they describe the API, not an organization's data).
_public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**_public), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html", **_public
        ),
        name="api-docs",
    ),
    path("users/", endpoints.UserListApi.as_view(), name="api-users"),
    path("users/<int:user_id>/", endpoints.UserDetailApi.as_view(), name="api-user"),
    path("", include("leads.api.urls")),
    path("leads/<int:lead_id>/score/", LeadScoreApi.as_view(), name="api-lead-score"),
    path("tracking/events/", TrackingEventsApi.as_view(), name="api-tracking-events"),
    path("tracking/identify/", TrackingIdentifyApi.as_view(), name="api-tracking-identify"),
    path(
        "reports/referrals/<int:year>-Q<int:quarter>/",
        QuarterlyReferralReportApi.as_view(),
        name="api-quarterly-report",
    ),
]
