"""/api/v1/reports/referrals/<YYYY>-Q<n>/: the quarterly referral report as JSON, or any export file."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from leadtrack.api.base import OrgApiView
from leadtrack.api.models import Scope
from reports.quarterly import exports
from reports.quarterly.selectors import Quarter, quarterly_report
from reports.quarterly.views import export_response


class _ReportFormatIsOurs:
    """``?format=`` names an export file here, not one of REST framework's renderers."""

    URL_FORMAT_OVERRIDE = None


class ReportContentNegotiation(DefaultContentNegotiation):
    settings = _ReportFormatIsOurs()


class QuarterlyReferralReportApi(OrgApiView):
    access = {"GET": ("reports.view", Scope.READ)}
    content_negotiation_class = ReportContentNegotiation

    @extend_schema(
        summary="Quarterly referral report",
        description="Every table of the report (rates with numerator, denominator and semantics; money in "
        "minor units). `format=md|pdf|xlsx|csv` returns the export file instead of JSON.",
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=list(exports.FORMATS))],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            **{
                (200, exports.CONTENT_TYPES[fmt].split(";")[0]): OpenApiTypes.BINARY
                for fmt in exports.FORMATS
            },
        },
    )
    def get(self, request: Request, year: int, quarter: int):
        try:
            period = Quarter(year, quarter)
        except ValueError:
            raise exceptions.NotFound("No such quarter.") from None
        fmt = request.query_params.get("format")
        if fmt is not None and fmt not in exports.FORMATS:
            raise exceptions.ValidationError({"format": [f"Choose one of {', '.join(exports.FORMATS)}."]})
        report = quarterly_report(org=self.org, quarter=period)
        if fmt:
            return export_response(report, fmt)
        return Response(report)
