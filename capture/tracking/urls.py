from django.urls import path

from capture.tracking import views

# Mounted under /o/<slug:org_slug>/tracking/
urlpatterns = [
    path("", views.site_list, name="tracking_sites"),
    path("<int:site_id>/", views.site_detail, name="tracking_site"),
    path("traffic/", views.traffic_dashboard, name="tracking_traffic"),
]
