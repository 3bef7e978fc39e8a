"""The event beacon, answered before the middleware it never uses.

``POST /t/<key>/e`` is sent by visitors' browsers many times a page, without cookies: it reads
no session, has no user, renders no page, is exempt from CSRF and CSP, and belongs to no
organization's request transaction (the site key finds the organization). The session, CSRF,
authentication, session-timeout, message, clickjacking, CSP, lockout, tenancy and audit
middleware each still cost it their setup and their pass over the response: most of an
event's time once the event itself was a parse and one XADD. So this middleware, placed right
after the request id and the security headers, calls the view itself, and adds the one header
of those it skips that still applies to an answer (X-Frame-Options, by Django's own rule).
Every other path, the site's script under /t/ included, goes on through the whole stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.urls import Resolver404, resolve

from capture.tracking.public_urls import EVENTS_URL_NAME, MOUNT


class TrackingEventsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.prefix = f"/{MOUNT}"
        self.framing = XFrameOptionsMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self.prefix):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)  # the stack's own 404 page
            if match.url_name == EVENTS_URL_NAME:
                request.resolver_match = match
                response = match.func(request, *match.args, **match.kwargs)
                return self.framing.process_response(request, response)
        return self.get_response(request)
