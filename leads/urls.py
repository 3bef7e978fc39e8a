from django.urls import path

from leads import views

# Mounted under /o/<slug:org_slug>/leads/
urlpatterns = [
    path("", views.lead_list_page, name="lead_list"),
    path("new/", views.lead_create, name="lead_create"),
    path("board/", views.lead_board, name="lead_board"),
    path("views/", views.saved_views_page, name="lead_saved_views"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="lead_saved_view_delete"),
    path("settings/", views.lead_settings_page, name="lead_settings"),
    path(
        "settings/regions/<int:override_id>/delete/",
        views.country_region_delete,
        name="lead_country_region_delete",
    ),
    path("<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("<int:lead_id>/edit/", views.lead_edit, name="lead_edit"),
    path("<int:lead_id>/history/", views.lead_history, name="lead_history"),
    path("<int:lead_id>/activities/", views.lead_activity_log, name="lead_activity_log"),
    path("<int:lead_id>/move/", views.lead_move, name="lead_move"),
    path(
        "<int:lead_id>/marketing-withdraw/",
        views.lead_marketing_withdraw_page,
        name="lead_marketing_withdraw",
    ),
]

for kind, prefix in (
    ("sources", "lead_source"),
    ("campaigns", "lead_campaign"),
    ("industries", "lead_industry"),
):
    urlpatterns += [
        path(f"{kind}/", views.catalog_list, {"kind": kind}, name=f"{prefix}_list"),
        path(f"{kind}/new/", views.catalog_create, {"kind": kind}, name=f"{prefix}_create"),
        path(f"{kind}/<int:item_id>/", views.catalog_edit, {"kind": kind}, name=f"{prefix}_edit"),
        path(f"{kind}/<int:item_id>/delete/", views.catalog_delete, {"kind": kind}, name=f"{prefix}_delete"),
    ]
