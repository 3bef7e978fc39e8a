"""The public side of lead forms: the post endpoint, the iframe page, the embed script.

No session and no organization in the URL: each view resolves the form from its public,
unguessable key (``selectors.form_for_key``, the way API keys are resolved) and only then
enters the form's organization.

CSRF: ``form_post`` is exempt on purpose. CSRF protects a signed-in person's session from
a forged cross-site request; this endpoint has no session, reads no cookie and acts for
nobody, and accepting posts from other sites is its job. What stands in front of it is the
form key (which form), the allowed origins (which sites may post from script), and the spam
rules (honeypot, signed render time, rate limits). The admin pages keep Django's CSRF check.
"""

from __future__ import annotations

import json
import time
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from capture.forms import fields as catalog
from capture.forms import services, spam
from capture.forms.models import FormSubmission, LeadForm
from capture.forms.selectors import form_for_key
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

PREFLIGHT_MAX_AGE = "86400"
# A form found by its key is reused for a few seconds by this process: the lookup is a
# transaction of its own (4 statements) on every post. An edit (deactivation, origins)
# therefore applies within FORM_CACHE_SECONDS.
FORM_CACHE_SECONDS = 5.0
FORM_CACHE_SIZE = 1000
_forms_by_key: dict[str, tuple[float, LeadForm | None]] = {}
DOUBLE_OPT_IN_MESSAGE = "Almost done: we sent you an e-mail. Please open the link in it to confirm."


def _form(key: str) -> LeadForm | None:
    now = time.monotonic()
    cached = _forms_by_key.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    form = form_for_key(key=key)
    if len(_forms_by_key) >= FORM_CACHE_SIZE:
        _forms_by_key.clear()
    if form is not None:
        _forms_by_key[key] = (now + FORM_CACHE_SECONDS, form)
    return form


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _cross_site_origin(request: HttpRequest) -> str | None:
    """The Origin of a request from another site, or None (no Origin, or ours)."""
    origin = request.headers.get("Origin")
    if not origin or origin == _own_origin(request):
        return None
    return origin


def _cors(response: HttpResponse, form: LeadForm, request: HttpRequest) -> HttpResponse:
    """Access-Control-Allow-Origin for the form's allowed origins only; anything else gets none."""
    origin = _cross_site_origin(request)
    response["Vary"] = "Origin"
    if origin and origin in form.allowed_origins:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _frameable(response: HttpResponse, form: LeadForm) -> HttpResponse:
    """Let the page be framed, by the form's allowed origins when it names any (this page only)."""
    response.xframe_options_exempt = True
    ancestors = list(form.allowed_origins) or ["http:", "https:"]
    form_action = ["'self'"]
    if form.redirect_url:
        form_action.append(services.normalize_origin(form.redirect_url))
    response._csp_replace = {"frame-ancestors": ancestors, "form-action": form_action}
    return response


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


class _BadPayload(Exception):
    pass


def _values(request: HttpRequest) -> dict[str, str]:
    """The posted fields as {name: text}, from a form post (urlencoded or multipart) or JSON."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if (declared.isdigit() and int(declared) > catalog.MAX_BODY_BYTES) or len(
        request.body
    ) > catalog.MAX_BODY_BYTES:
        raise _BadPayload(f"The form is too large (over {catalog.MAX_BODY_BYTES // 1024} KB).")
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise _BadPayload("The body is not valid JSON.") from exc
        if not isinstance(payload, dict):
            raise _BadPayload("Send a JSON object of field names and values.")
        values = {}
        for name, value in payload.items():
            if isinstance(value, bool):
                value = "true" if value else ""
            elif value is None:
                value = ""
            elif not isinstance(value, str | int | float):
                raise _BadPayload(f"“{name}” must be a text value.")
            values[str(name)] = str(value)
        return values
    return {name: request.POST.get(name, "") for name in request.POST}


def _error_answer(
    request: HttpRequest,
    form: LeadForm,
    errors: dict[str, list[str]],
    values: dict[str, str],
    status: int = 400,
) -> HttpResponse:
    if _wants_json(request):
        return _cors(JsonResponse({"errors": errors}, status=status), form, request)
    page = _form_page(request, form, embed="html", values=values, errors=errors, status=status)
    return _cors(page, form, request)


def _success_answer(request: HttpRequest, form: LeadForm) -> HttpResponse:
    """The same answer for every accepted-looking post: new person, known person, or spam."""
    message = DOUBLE_OPT_IN_MESSAGE if form.double_opt_in else form.thank_you_message
    if _wants_json(request):
        body = {"status": "ok", "message": message, "redirect_url": form.redirect_url or None}
        return _cors(JsonResponse(body), form, request)
    if form.redirect_url and not form.double_opt_in:
        return HttpResponseRedirect(form.redirect_url, status=303)
    return HttpResponseRedirect(reverse("webforms_thanks", kwargs={"key": form.key}), status=303)


def _not_found(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    raise Http404("No such form")


def _embed_kind(form: LeadForm, values: dict[str, str], now: float) -> tuple[str, bool]:
    """(which embed sent the post, whether it came back too fast or with a forged stamp)."""
    stamp = values.get(catalog.RENDER_STAMP_FIELD)
    if not stamp:
        return "html", False  # the plain snippet: honeypot and rate limits only
    content = spam.read_render_stamp(stamp=stamp, form_id=form.pk)
    if content is None:
        return "html", True
    return str(content.get("e", ""))[:10], now - content["t"] < form.min_seconds_to_submit


@csrf_exempt  # see the module docstring: no session, cross-site posts are the point
@require_http_methods(["POST", "OPTIONS"])
def form_post(request: HttpRequest, key: str) -> HttpResponse:
    form = _form(key)
    if form is None:
        return _not_found(request)
    origin = _cross_site_origin(request)
    if request.method == "OPTIONS":
        response = _cors(HttpResponse(status=204), form, request)
        if "Access-Control-Allow-Origin" in response:
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    # A script on a site that is not allowed gets nothing (and nothing is stored). Plain HTML
    # posts (no script: a navigation) are accepted from any site unless origins are listed.
    if origin and origin not in form.allowed_origins and (form.allowed_origins or _wants_json(request)):
        return JsonResponse({"detail": "This site may not post to this form."}, status=403)
    try:
        values = _values(request)
    except _BadPayload as exc:
        return _error_answer(request, form, {"__all__": [str(exc)]}, {})
    now = time.time()
    verdict = spam.rate_limit_check(form_id=form.pk, ip=_client_ip(request), now=now)
    if verdict.wait is not None:
        errors = {"__all__": ["Too many submissions. Please try again in a minute."]}
        response = _error_answer(request, form, errors, values, status=429)
        response["Retry-After"] = str(verdict.wait)
        return response
    embed, too_fast = _embed_kind(form, values, now)
    if too_fast or values.get(catalog.HONEYPOT_FIELD):
        # Spam gets the answer a person gets, so a bot learns nothing; nothing is stored.
        return _success_answer(request, form)
    referer = request.headers.get("Referer", "")
    if not values.get("page_url") and referer and not referer.startswith(_own_origin(request) + "/"):
        # Without the tracking script the plain snippet's hidden fields stay empty.
        values["page_url"] = referer
    with tenant_context(form.organization):
        try:
            services.submission_receive(
                org=form.organization,
                form=form,
                values=values,
                ip_prefix=spam.truncate_ip(_client_ip(request)),
                user_agent=request.headers.get("User-Agent", ""),
                embed=embed,
                enqueue=verdict.redis_answered or settings.CELERY_BROKER_URL != settings.REDIS_URL,
            )
        except ValidationError as exc:
            return _error_answer(request, form, exc.message_dict, values)
    return _success_answer(request, form)


def _form_page(
    request: HttpRequest,
    form: LeadForm,
    *,
    embed: str,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    context = {
        "lead_form": form,
        "fields": catalog.render_fields(form.fields, values=values or {}, errors=errors),
        "tracking": {name: (values or {}).get(name, "") for name in catalog.TRACKING_FIELDS},
        "consent_checked": bool((values or {}).get(catalog.CONSENT_FIELD)),
        "consent_errors": errors.get(catalog.CONSENT_FIELD, []),
        "form_errors": errors.get("__all__", []),
        # A re-rendered form keeps the stamp it was posted with: correcting a field is not a new render.
        "stamp": (values or {}).get(catalog.RENDER_STAMP_FIELD)
        or (spam.render_stamp(form_id=form.pk, embed=embed) if embed != "html" else ""),
        "honeypot": catalog.HONEYPOT_FIELD,
        "stamp_field": catalog.RENDER_STAMP_FIELD,
    }
    return _frameable(render(request, "webforms/public_form.html", context, status=status), form)


@require_GET
def form_embed(request: HttpRequest, key: str) -> HttpResponse:
    """The iframe page: the form on its own page, frameable by the allowed origins."""
    form = form_for_key(key=key)
    if form is None:
        raise Http404("No such form")
    response = _form_page(request, form, embed="iframe")
    response["Cache-Control"] = "no-store"  # it carries a fresh render stamp
    return response


@require_GET
def form_thanks(request: HttpRequest, key: str) -> HttpResponse:
    form = form_for_key(key=key)
    if form is None:
        raise Http404("No such form")
    message = DOUBLE_OPT_IN_MESSAGE if form.double_opt_in else form.thank_you_message
    return _frameable(render(request, "webforms/public_thanks.html", {"message": message}), form)


@cache
def _embed_code() -> str:
    path = finders.find("webforms/embed.js")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _js_json(value) -> str:
    # Safe inside any script context: no "</script>", no HTML comment openers.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@require_GET
def form_script(request: HttpRequest, key: str) -> HttpResponse:
    """The script tag's source: this form's definition, then the renderer (static/webforms/embed.js)."""
    form = form_for_key(key=key)
    if form is None:
        return HttpResponse("/* LeadTrack: no such form */", status=404, content_type="text/javascript")
    config = {
        "key": form.key,
        "action": request.build_absolute_uri(reverse("webforms_post", kwargs={"key": form.key})),
        "fields": [
            {"name": f["name"], "label": f["label"], "required": f["required"], "type": f["input_type"]}
            for f in catalog.render_fields(form.fields, values={}, errors={})
        ],
        "consent": {"text": form.consent_text, "required": form.consent_required}
        if form.consent_enabled
        else None,
        "submit": form.submit_label,
        "honeypot": catalog.HONEYPOT_FIELD,
        "stampField": catalog.RENDER_STAMP_FIELD,
        "stamp": spam.render_stamp(form_id=form.pk, embed="script"),
        "tracking": list(catalog.TRACKING_FIELDS),
    }
    code = f"(window.LeadTrackForms = window.LeadTrackForms || []).push({_js_json(config)});\n{_embed_code()}"
    response = HttpResponse(code, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def submission_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The double opt-in link: the submission goes on to become a lead."""
    found = services.confirmation_read(token=token)
    organization = Organization.objects.filter(pk=found[0]).first() if found else None
    if organization is None:
        return render(request, "webforms/public_confirm.html", {"valid": False}, status=400)
    with tenant_context(organization):
        try:
            submission = services.submission_confirm(org=organization, submission_id=found[1])
        except FormSubmission.DoesNotExist:
            return render(request, "webforms/public_confirm.html", {"valid": False}, status=400)
        message = submission.form.thank_you_message
    return render(request, "webforms/public_confirm.html", {"valid": True, "message": message})
