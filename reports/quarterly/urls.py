from django.urls import path

from reports.quarterly import views

# Mounted under /o/<slug:org_slug>/reports/referrals/
urlpatterns = [
    path("", views.quarterly_report_latest, name="quarterly_report_latest"),
    path("subscription/", views.quarterly_subscription, name="quarterly_subscription"),
    path("<int:year>-Q<int:quarter>/", views.quarterly_report_view, name="quarterly_report"),
    path("<int:year>-Q<int:quarter>/notes/", views.quarterly_notes_edit, name="quarterly_notes"),
]
