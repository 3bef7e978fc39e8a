from django.urls import path

from leadtrack.api import views

# Mounted under /o/<slug:org_slug>/settings/api/
urlpatterns = [
    path("", views.api_settings, name="api_settings"),
    path("keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("webhooks/<int:endpoint_id>/", views.webhook_endpoint_detail, name="api_webhook_endpoint"),
    path(
        "webhooks/<int:endpoint_id>/active/",
        views.webhook_endpoint_toggle,
        name="api_webhook_endpoint_active",
    ),
    path(
        "webhooks/<int:endpoint_id>/delete/",
        views.webhook_endpoint_delete,
        name="api_webhook_endpoint_delete",
    ),
    path(
        "deliveries/<int:delivery_id>/replay/",
        views.webhook_delivery_replay,
        name="api_webhook_delivery_replay",
    ),
]
