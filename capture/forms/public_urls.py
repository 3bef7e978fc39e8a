"""Public form endpoints under /f/: no session, the form key names the form (and its organization)."""

from django.urls import path

from capture.forms import public_views

urlpatterns = [
    path("confirm/<str:token>", public_views.submission_confirm, name="webforms_confirm"),
    path("<slug:key>.js", public_views.form_script, name="webforms_script"),
    path("<slug:key>/embed", public_views.form_embed, name="webforms_embed"),
    path("<slug:key>/thanks", public_views.form_thanks, name="webforms_thanks"),
    path("<slug:key>", public_views.form_post, name="webforms_post"),
]
