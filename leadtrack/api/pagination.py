"""Cursor pagination: stable under inserts and no COUNT(*) per page (docs/performance.md G1)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    # Views narrow this with ``ordering_fields``; ``?ordering=`` picks among them.
    ordering = ("-created_at", "-id")

    def get_ordering(self, request, queryset, view):
        requested = request.query_params.get("ordering", "").strip()
        allowed = getattr(view, "ordering_fields", ())
        if requested.lstrip("-") in allowed:
            return (requested, "-id" if requested.startswith("-") else "id")
        return getattr(view, "ordering", None) or self.ordering

    def get_page_size(self, request):
        """``page_size`` from 1 to the maximum; anything else is a 400, not a silent default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        allowed = getattr(view, "ordering_fields", ())
        if allowed:
            choices = [field for name in allowed for field in (name, f"-{name}")]
            parameters.append(
                {
                    "name": "ordering",
                    "required": False,
                    "in": "query",
                    "description": "Sort order; the default is newest first.",
                    "schema": {"type": "string", "enum": choices},
                }
            )
        for parameter in parameters:
            if parameter["name"] == "page_size":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
