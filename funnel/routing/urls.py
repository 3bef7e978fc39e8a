from django.urls import path

from funnel.routing import views

urlpatterns = [
    path("", views.rule_list, name="routing_rules"),
    path("rules/new/", views.rule_create, name="routing_rule_create"),
    path("rules/<int:rule_id>/", views.rule_edit, name="routing_rule_edit"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="routing_rule_delete"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="routing_rule_move"),
    path("teams/new/", views.team_create, name="routing_team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="routing_team"),
    path("teams/<int:team_id>/delete/", views.team_delete, name="routing_team_delete"),
    path(
        "teams/<int:team_id>/members/<int:member_id>/",
        views.team_member_update,
        name="routing_team_member_update",
    ),
    path(
        "teams/<int:team_id>/members/<int:member_id>/remove/",
        views.team_member_remove,
        name="routing_team_member_remove",
    ),
    path("sla/", views.sla_queue, name="routing_sla_queue"),
    path("sla/settings/", views.sla_settings, name="routing_sla_settings"),
    path("notifications/", views.notification_list, name="routing_notifications"),
]
