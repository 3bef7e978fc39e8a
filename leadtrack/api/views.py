"""Settings → API: keys (created, shown once, revoked) and webhook endpoints with their deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leadtrack.api import selectors, services
from leadtrack.api.forms import ApiKeyForm, WebhookEndpointForm
from leadtrack.api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from leadtrack.tenancy.permissions import org_permission_required


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@org_permission_required("org.manage_api_keys")
def api_settings(request: HttpRequest) -> HttpResponse:
    """Keys and endpoints. A new key is rendered in this response only, never again."""
    org = request.organization
    key_form = ApiKeyForm(request.POST if request.POST.get("action") == "create_key" else None)
    endpoint_form = WebhookEndpointForm(
        request.POST if request.POST.get("action") == "create_endpoint" else None
    )
    new_key = new_endpoint = None
    if request.method == "POST" and key_form.is_bound and key_form.is_valid():
        try:
            key, raw = services.api_key_create(org=org, actor=request.user, **key_form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, key_form)
        else:
            new_key = {"key": key, "raw": raw}
            key_form = ApiKeyForm()
    if request.method == "POST" and endpoint_form.is_bound and endpoint_form.is_valid():
        try:
            new_endpoint = services.webhook_endpoint_create(
                org=org, actor=request.user, **endpoint_form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(exc, endpoint_form)
        else:
            endpoint_form = WebhookEndpointForm()
    return render(
        request,
        "api/settings.html",
        {
            "keys": selectors.api_keys_for_org(org=org),
            "endpoints": selectors.webhook_endpoints_for_org(org=org),
            "key_form": key_form,
            "endpoint_form": endpoint_form,
            "new_key": new_key,
            "new_endpoint": new_endpoint,
        },
    )


@require_POST
@org_permission_required("org.manage_api_keys")
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    try:
        key = services.api_key_revoke(org=request.organization, key_id=key_id)
    except ApiKey.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, f"Key “{key.name}” revoked: requests with it now get 401.")
    return redirect("api_settings", org_slug=request.organization.slug)


@org_permission_required("org.manage_api_keys")
def webhook_endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    org = request.organization
    try:
        endpoint = selectors.webhook_endpoint_get(org=org, endpoint_id=endpoint_id)
    except WebhookEndpoint.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "api/endpoint.html",
        {"endpoint": endpoint, "deliveries": selectors.webhook_deliveries(org=org, endpoint=endpoint)},
    )


@require_POST
@org_permission_required("org.manage_api_keys")
def webhook_endpoint_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    org = request.organization
    try:
        endpoint = services.webhook_endpoint_set_active(
            org=org, endpoint_id=endpoint_id, active=request.POST.get("active") == "1"
        )
    except WebhookEndpoint.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, f"Endpoint {'enabled' if endpoint.is_active else 'disabled'}.")
    return redirect("api_webhook_endpoint", org_slug=org.slug, endpoint_id=endpoint.pk)


@require_POST
@org_permission_required("org.manage_api_keys")
def webhook_endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    try:
        services.webhook_endpoint_delete(org=request.organization, endpoint_id=endpoint_id)
    except WebhookEndpoint.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, "Endpoint deleted.")
    return redirect("api_settings", org_slug=request.organization.slug)


@require_POST
@org_permission_required("org.manage_api_keys")
def webhook_delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    org = request.organization
    try:
        delivery = services.webhook_delivery_replay(org=org, delivery_id=delivery_id)
    except WebhookDelivery.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        delivery = selectors.webhook_delivery_get(org=org, delivery_id=delivery_id)
    else:
        messages.success(request, "Delivery queued again.")
    return redirect("api_webhook_endpoint", org_slug=org.slug, endpoint_id=delivery.endpoint_id)
