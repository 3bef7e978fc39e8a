"""Public tracking endpoints under /t/: the script a site pastes, and the events it sends.

No session, no organization in the path: the site key resolves the organization through
its own row-level security lookup (selectors.site_for_key, cached per process), the same
way an API key does. The event endpoint is the fast path: validate, truncate the IP, append
to the Redis stream; PostgreSQL is written later, in batches, by the drain.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from csp.decorators import csp_exempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from redis.exceptions import RedisError

from capture.tracking import services
from capture.tracking.selectors import SiteInfo, site_for_key

logger = logging.getLogger(__name__)
SCRIPT_FILE = Path(settings.BASE_DIR) / "static" / "tracking" / "leadtrack.js"
CONFIG_PLACEHOLDER = "/*LEADTRACK_CONFIG*/ null"
# A 1x1 transparent GIF: the answer to the image fallback.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@lru_cache(maxsize=1)
def _script_source() -> str:
    return SCRIPT_FILE.read_text()


def _site(key: str) -> SiteInfo | None:
    return site_for_key(key=key) if services.SITE_KEY_PATTERN.fullmatch(key) else None


def _site_or_404(key: str) -> SiteInfo:
    site = _site(key)
    if site is None:
        raise Http404("Unknown site")
    return site


@require_GET
def tracking_script(request: HttpRequest, key: str) -> HttpResponse:
    """The site's copy of static/tracking/leadtrack.js, with its settings filled in."""
    site = _site_or_404(key)
    config = {
        "siteKey": site.key,
        "endpoint": request.build_absolute_uri(reverse("tracking_events", kwargs={"key": site.key})),
        "honourDoNotTrack": site.honour_do_not_track,
        "requireConsent": site.require_consent,
    }
    literal = json.dumps(config).replace("<", "\\u003c")
    response = HttpResponse(
        _script_source().replace(CONFIG_PLACEHOLDER, literal, 1),
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    return response


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR")


def _too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > services.MAX_BODY_BYTES
    except ValueError:
        return True


@csrf_exempt
@csp_exempt()  # an empty 204, a JSON error or a GIF: no document for a policy to protect
@never_cache
@require_http_methods(["GET", "POST"])
def tracking_events(request: HttpRequest, key: str) -> HttpResponse:
    """POST: the body is one event or ``{"events": [...]}`` as JSON (sent as text/plain by
    navigator.sendBeacon, so no CORS preflight). GET ``?d=<json>``: the image fallback.
    204 (or a pixel) when accepted or deliberately dropped (Do-Not-Track); 400 with field
    errors for anything malformed; 404 for an unknown key, as JSON like the other errors (this
    view is called by capture/tracking/middleware.py, before the middleware an error page needs)."""
    site = _site(key)
    if site is None:
        return JsonResponse({"detail": "Unknown site."}, status=404)
    if request.method == "GET":
        body = request.GET.get("d", "").encode()
    elif _too_large(request):
        return JsonResponse({"body": [f"At most {services.MAX_BODY_BYTES} bytes."]}, status=400)
    else:
        body = request.body
    try:
        events, batch = services.events_parse(body)
        services.events_accept(
            site=site,
            events=events,
            batch=batch,
            ip=_client_ip(request),
            do_not_track=request.META.get("HTTP_DNT") == "1",
        )
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    except RedisError:
        # The stream is the only store of the fast path: say so, the browser may retry later.
        logger.exception("tracking event not stored: the stream is unavailable")
        return JsonResponse({"detail": "Temporarily unavailable."}, status=503, headers={"Retry-After": "30"})
    if request.method == "GET":
        return HttpResponse(PIXEL, content_type="image/gif")
    return HttpResponse(status=204)
