from django.urls import path

from capture.tracking import public_views

# Mounted at /t/ (public, no organization in the path).
urlpatterns = [
    path("<str:key>.js", public_views.tracking_script, name="tracking_script"),
    path("<str:key>/e", public_views.tracking_events, name="tracking_events"),
]
