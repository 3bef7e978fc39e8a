"""The schema and the docs page: public, offline (assets from the sidecar package), complete."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.routes import api_operations


def test_the_docs_page_needs_no_internet_and_nothing_inline(client: Client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html  # the CSP allows neither
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert any("drf_spectacular_sidecar" in a for a in assets)
    for asset in assets:
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def test_every_api_operation_is_in_the_schema(client: Client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    documented = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    routed = {(op.method, "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.route)) for op in api_operations()}
    missing = routed - documented
    print(f"\n[I6] routed operations={len(routed)} documented={len(documented)} undocumented={len(missing)}")
    assert missing == set()
    assert "X-LeadTrack-Signature" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_no_api_view_escapes_the_tenant_base():
    """Every view under /api/v1/ except the schema and docs goes through OrgApiView."""
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

    from leadtrack.api.base import OrgApiView

    outside = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and (prefix + str(entry.pattern)).startswith("api/"):
                view = getattr(entry.callback, "cls", None)
                if view in (SpectacularAPIView, SpectacularSwaggerSplitView):
                    continue
                if not (isinstance(view, type) and issubclass(view, OrgApiView)):
                    outside.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns)
    assert outside == []
