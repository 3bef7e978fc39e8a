"""Every API operation, read from the URL patterns: a new endpoint is covered without a test edit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from leadtrack.api.base import OrgApiView

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
# Path parameters that are not ids of rows, with a value to call them with.
VALUE_PARAMS = {"year": 2026, "quarter": 1}


@dataclass(frozen=True)
class Operation:
    route: str
    method: str
    params: tuple[str, ...]
    view: type

    @property
    def id_params(self) -> tuple[str, ...]:
        return tuple(name for name in self.params if name not in VALUE_PARAMS)

    @property
    def unsafe(self) -> bool:
        return self.method not in SAFE

    def path(self, **ids) -> str:
        values = {**VALUE_PARAMS, **ids}
        return "/" + PARAM.sub(lambda m: str(values[m.group(1)]), self.route)

    def __str__(self) -> str:
        return f"{self.method} /{self.route}"


def api_operations() -> list[Operation]:
    operations: list[Operation] = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                view = getattr(entry.callback, "cls", None)
                if route.startswith("api/") and isinstance(view, type) and issubclass(view, OrgApiView):
                    for method in view.access:
                        operations.append(Operation(route, method, tuple(PARAM.findall(route)), view))

    walk(get_resolver().url_patterns)
    return operations


def request(client, operation: Operation, path: str, body: dict | None = None):
    call = getattr(client, operation.method.lower())
    if operation.unsafe:
        return call(path, body or {}, format="json")
    return call(path)
