"""One error shape for every API response that is not a success::

    {"type": "validation_error", "detail": "Invalid input.",
     "errors": {"email": ["Enter a valid e-mail address."]}}

``errors`` maps field names to messages (``non_field_errors`` for the rest) and is
empty when no field is at fault. The service layer's exceptions are mapped here,
so the views stay free of try/except ladders.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, connection, transaction
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from funnel.services import StageConflictError
from leads.services import DuplicateLeadError, StaleLeadError

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it: fetch it again and retry with the new ETag."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class IdempotencyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"


_TYPES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    415: "unsupported_media_type",
    422: "idempotency_key_reused",
    429: "throttled",
}


def error_body(
    status_code: int, detail: str, errors: dict[str, list[str]] | None = None, **extra: Any
) -> dict:
    return {"type": _TYPES.get(status_code, "error"), "detail": detail, "errors": errors or {}, **extra}


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, inner in value.items() for message in _flatten(inner)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _flatten(item)]
    return [str(value)]


def field_errors(detail: Any) -> dict[str, list[str]]:
    """DRF's nested error detail → {field: [messages]} (nested fields joined by dots)."""
    if isinstance(detail, dict):
        result: dict[str, list[str]] = {}
        for field, value in detail.items():
            name = NON_FIELD if field in ("non_field_errors", "__all__") else str(field)
            if isinstance(value, dict):
                for inner, messages in field_errors(value).items():
                    result[f"{name}.{inner}"] = messages
            else:
                result[name] = _flatten(value)
        return result
    return {NON_FIELD: _flatten(detail)}


def _django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {NON_FIELD if f == "__all__" else f: list(m) for f, m in exc.message_dict.items()}
    return {NON_FIELD: list(exc.messages)}


def _translate(exc: Exception) -> exceptions.APIException | Exception:
    if isinstance(exc, RequestDataTooBig):
        return exceptions.ValidationError({NON_FIELD: ["The request body is too large."]})
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_django_validation_errors(exc))
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return exceptions.NotFound("Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, StaleLeadError):
        return PreconditionFailed(exc.message)
    if isinstance(exc, StageConflictError):
        return Conflict(exc.message)
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DataError):
        # A value the database cannot hold (out-of-range number in a filter): bad input.
        # The statement failed, so the transaction is unusable: roll it back.
        if connection.in_atomic_block:
            transaction.set_rollback(True)
        return Response(error_body(400, "A value is out of range."), status=400)
    if isinstance(exc, DuplicateLeadError):
        body = error_body(409, exc.message, {"email": [exc.message]} if exc.reason == "e-mail" else {})
        body["existing_id"] = exc.existing.pk
        return Response(body, status=409)
    exc = _translate(exc)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(int(exc.wait + 0.999), 1))
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(400, "Invalid input.", field_errors(exc.detail))
    elif isinstance(exc, exceptions.Throttled):
        body = error_body(429, f"Too many requests: retry in {headers['Retry-After']} s.")
    else:
        body = error_body(exc.status_code, " ".join(_flatten(exc.detail)))
    return Response(body, status=exc.status_code, headers=headers)


def not_found_handler(request, exception=None):
    """``handler404``: JSON in the one error shape under /api/, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(404, "Not found."), status=404)
    return page_not_found(request, exception)
