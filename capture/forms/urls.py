"""The form builder under /o/<slug>/forms/."""

from django.urls import path

from capture.forms import views

urlpatterns = [
    path("", views.form_list, name="webforms_list"),
    path("new/", views.form_create, name="webforms_create"),
    path("<int:form_id>/", views.form_detail, name="webforms_detail"),
    path("<int:form_id>/edit/", views.form_edit, name="webforms_edit"),
    path("<int:form_id>/submissions/", views.submission_list, name="webforms_submissions"),
]
