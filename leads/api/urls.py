from django.urls import path

from funnel.api.views import LeadTransitionApi
from leads.api import views

# Mounted under /api/v1/ by leadtrack/api/urls.py.
urlpatterns = [
    path("leads/", views.LeadListApi.as_view(), name="api-leads"),
    path("leads/bulk/", views.LeadBulkApi.as_view(), name="api-leads-bulk"),
    path("leads/<int:lead_id>/", views.LeadDetailApi.as_view(), name="api-lead"),
    path("leads/<int:lead_id>/transitions/", LeadTransitionApi.as_view(), name="api-lead-transitions"),
    path("leads/<int:lead_id>/activities/", views.LeadActivityListApi.as_view(), name="api-lead-activities"),
    path("activities/", views.ActivityListApi.as_view(), name="api-activities"),
    path("activities/<int:activity_id>/", views.ActivityDetailApi.as_view(), name="api-activity"),
    path("sources/", views.SourceListApi.as_view(), name="api-sources"),
    path("sources/<int:source_id>/", views.SourceDetailApi.as_view(), name="api-source"),
    path("campaigns/", views.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaigns/<int:campaign_id>/", views.CampaignDetailApi.as_view(), name="api-campaign"),
    path("spend/", views.SpendEntryListApi.as_view(), name="api-spend-entries"),
    path("spend/<int:spend_id>/", views.SpendEntryDetailApi.as_view(), name="api-spend-entry"),
]
