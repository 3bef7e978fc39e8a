from django.urls import path

from leadtrack.tenancy import views

# Mounted under /o/<slug:org_slug>/
urlpatterns = [
    path("", views.org_home, name="org_home"),
    path("settings/members/", views.members, name="org_members"),
    path("settings/members/<int:membership_id>/role/", views.member_change_role, name="org_member_role"),
    path("settings/members/<int:membership_id>/remove/", views.member_remove, name="org_member_remove"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="org_invitation_revoke",
    ),
]
