"""Every product URL, plus the Django references under /bench-ref/ (no authentication)."""

from django.urls import path

from bench import reference_views
from leadtrack.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench-ref/o/<slug:org_slug>/leads.json", reference_views.lead_list),
    path("bench-ref/o/<slug:org_slug>/leads-former.json", reference_views.lead_list_former),
    path("bench-ref/o/<slug:org_slug>/leads/create", reference_views.lead_create),
    path("bench-ref/o/<slug:org_slug>/leads/create-with-rows", reference_views.lead_create_with_rows),
    path("bench-ref/o/<slug:org_slug>/leads/create-drf", reference_views.LeadCreateDrfDefault.as_view()),
    path("bench-ref/o/<slug:org_slug>/leads/", reference_views.lead_page),
    path("bench-ref/o/<slug:org_slug>/dashboard/", reference_views.dashboard_page),
    *product_urlpatterns,
]
