from django.urls import path

from reports import views

# Mounted under /o/<slug:org_slug>/
urlpatterns = [
    path("dashboards/", views.funnel_dashboard, name="dashboards_funnel"),
    path("dashboards/trends/", views.trends_dashboard, name="dashboards_trends"),
    path("dashboards/breakdowns/<str:dimension>/", views.breakdown_dashboard, name="dashboards_breakdown"),
    path("dashboards/velocity/", views.velocity_dashboard, name="dashboards_velocity"),
    path("dashboards/live/", views.live_dashboard, name="dashboards_live"),
    path("dashboards/live.json", views.live_data, name="dashboards_live_data"),
    path("dashboards/methodology/", views.methodology, name="dashboards_methodology"),
    path("dashboards/settings/", views.report_settings, name="dashboards_settings"),
    path("dashboards/snapshots/", views.snapshots, name="dashboards_recompute"),
    path("dashboards/runs/<int:run_id>.json", views.run_status, name="dashboards_run_status"),
]
