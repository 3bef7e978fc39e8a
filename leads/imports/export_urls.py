from django.urls import path

from leads.imports import views

# Mounted under /o/<slug:org_slug>/leads/export/ ; the query string carries the lead-list filters.
urlpatterns = [
    path("leads.csv", views.export_csv, name="lead_export_csv"),
    path("leads.xlsx", views.export_xlsx, name="lead_export_xlsx"),
]
