"""django-csp's middleware, minus building a policy for a response that is exempt from it.

django-csp builds the enforced and the report-only policy for every response, then skips
the header of one that is exempt (``@csp_exempt()``): a seventh of the tracking endpoint's
time, whose 204 has no document for a policy to protect.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware as _CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class CSPMiddleware(_CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        exempt = getattr(response, "_csp_exempt", False)
        report_only_exempt = getattr(response, "_csp_exempt_ro", False) or not getattr(
            settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None
        )
        if exempt and report_only_exempt:
            return response
        return super().process_response(request, response)
