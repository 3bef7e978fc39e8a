from django.urls import path

from reports.attribution import views

# Mounted under /o/<slug:org_slug>/dashboards/attribution/
urlpatterns = [
    path("", views.attribution_dashboard, name="attribution_dashboard"),
    path("email/", views.email_dashboard, name="attribution_email"),
    path("email/settings/", views.email_settings, name="attribution_email_settings"),
]
