from django.urls import path

from leads.imports import views

# Mounted under /o/<slug:org_slug>/leads/import/
urlpatterns = [
    path("", views.import_home, name="lead_import"),
    path("<int:job_id>/", views.import_job, name="lead_import_job"),
    path("<int:job_id>/mapping/", views.import_mapping, name="lead_import_mapping"),
    path("<int:job_id>/preview/", views.import_preview, name="lead_import_preview"),
    path("<int:job_id>/run/", views.import_run, name="lead_import_run"),
    path("<int:job_id>/progress.json", views.import_progress, name="lead_import_progress"),
    path("<int:job_id>/errors.csv", views.import_error_report, name="lead_import_errors"),
]
