from django.urls import path

from capture.tracking import public_views

# Mounted at /t/ (public, no organization in the path) by leadtrack/urls.py. The events URL is
# answered early by capture/tracking/middleware.py, which finds it by this prefix and name.
MOUNT = "t/"
EVENTS_URL_NAME = "tracking_events"

urlpatterns = [
    path("<str:key>.js", public_views.tracking_script, name="tracking_script"),
    path("<str:key>/e", public_views.tracking_events, name=EVENTS_URL_NAME),
]
