"""The base of every tenant endpoint: authentication has activated the organization;
this adds ``self.org`` / ``self.api_access``, Idempotency-Key on POST and rate-limit headers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from leadtrack.api import idempotency
from leadtrack.api.authentication import ApiAccess
from leadtrack.api.errors import PreconditionFailed
from leadtrack.tenancy.models import Organization

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID). Retrying with the same key and body returns the first "
    "response and does the work once; the same key with another body is refused with 422.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read. If the resource changed since, the request fails with 412.",
)


def etag_for(version: int) -> str:
    return f'"{version}"'


def version_from_if_match(request: Request) -> int | None:
    """The version an ``If-Match`` header names; None when absent. A malformed one → 412."""
    header = request.META.get("HTTP_IF_MATCH", "").strip()
    if not header or header == "*":
        return None
    value = header.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match must be an ETag returned by this API.")
    return int(value)


class OrgApiView(GenericAPIView):
    """``access`` (see permissions.py) names what each method needs."""

    access: dict[str, tuple[str, str]] = {}
    # Lists filter explicitly (filter_or_400, with the organization); views naming a
    # filterset_class list DjangoFilterBackend only so the schema documents the filters.
    filter_backends: list = []

    @property
    def api_access(self) -> ApiAccess:
        return self.request.auth

    @property
    def org(self) -> Organization:
        return self.request.auth.organization

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        blank = sorted({name for name, value in request.query_params.lists() if any(v == "" for v in value)})
        if blank:
            raise exceptions.ValidationError(
                {name: ["Leave the parameter out instead of sending it empty."] for name in blank}
            )
        self._idempotency_claim = None
        if request.method == "POST":
            self._idempotency_claim = idempotency.claim(org=self.org, request=request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        claim = getattr(self, "_idempotency_claim", None)
        if claim is not None and response.status_code < 500:
            idempotency.store(claim=claim, response=response)
        rate = getattr(request._request, "rate_limit", None)
        if rate is not None:
            for name, value in rate.headers().items():
                response[name] = value
        return super().finalize_response(request, response, *args, **kwargs)

    def filter_or_400(self, filterset_class, queryset: QuerySet, data=None, **kwargs: Any) -> QuerySet:
        """The list filters applied; invalid values → 400 with field errors (not an empty list)."""
        data = self.request.query_params if data is None else data
        filterset = filterset_class(data, queryset=queryset, given_only=True, **kwargs)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return filterset.qs
