from django.urls import path

from funnel.predictions import views

# Mounted under /o/<slug:org_slug>/predictions/
urlpatterns = [
    path("", views.model_overview, name="predictions_model"),
    path("retrain/", views.model_retrain, name="predictions_retrain"),
]
