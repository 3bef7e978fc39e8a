from django.urls import path

from . import views

# Mounted under /o/<slug:org_slug>/scoring/
urlpatterns = [
    path("", views.scoring_home, name="scoring_home"),
    path("settings/", views.scoring_settings_save, name="scoring_settings"),
    path("rescore/", views.scoring_rescore_all, name="scoring_rescore_all"),
    path("runs/<int:run_id>/", views.scoring_run_progress, name="scoring_run_progress"),
    path("rules/new/", views.scoring_rule_create, name="scoring_rule_create"),
    path("rules/<int:rule_id>/", views.scoring_rule_edit, name="scoring_rule_edit"),
    path("rules/<int:rule_id>/delete/", views.scoring_rule_delete, name="scoring_rule_delete"),
    path("rules/<int:rule_id>/move/", views.scoring_rule_move, name="scoring_rule_move"),
    path("leads/<int:lead_id>/bant/", views.lead_bant_update, name="scoring_lead_bant"),
]
