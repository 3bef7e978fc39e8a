from django.urls import path

from reports.attribution import hooks

# Mounted at /hooks/email/ (public, signed; no organization in the path).
urlpatterns = [
    path("<str:endpoint_key>", hooks.email_events, name="email_events_hook"),
]
