from django.urls import path

from leadtrack.privacy import views

# Mounted under /o/<slug:org_slug>/settings/privacy/
urlpatterns = [
    path("", views.privacy_settings, name="privacy_settings"),
    path("export/", views.privacy_export, name="privacy_export"),
    path("erase/", views.privacy_erase, name="privacy_erase"),
    path("retention/", views.privacy_retention, name="privacy_retention"),
]
