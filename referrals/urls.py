from django.urls import path

from referrals import portal_views, views

# Mounted under /o/<slug:org_slug>/
urlpatterns = [
    # Partner manager
    path("referrals/", views.overview, name="referrals_overview"),
    path("referrals/review/", views.review, name="referrals_review"),
    path("referrals/all/", views.referral_list, name="referrals_list"),
    path("referrals/new/", views.employee_referral, name="referrals_employee"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referrals_detail"),
    path("referrals/<int:referral_id>/approve/", views.referral_approve, name="referrals_approve"),
    path("referrals/<int:referral_id>/reject/", views.referral_reject, name="referrals_reject"),
    path("referrals/partners/", views.partner_list, name="referrals_partners"),
    path("referrals/partners/<int:partner_id>/", views.partner_detail, name="referrals_partner"),
    path("referrals/partners/<int:partner_id>/users/", views.partner_user_add, name="referrals_partner_user"),
    path("referrals/partners/<int:partner_id>/links/", views.partner_link_add, name="referrals_partner_link"),
    path("referrals/links/", views.links, name="referrals_links"),
    path("referrals/tiers/", views.tier_list, name="referrals_tiers"),
    path("referrals/tiers/<int:tier_id>/", views.tier_edit, name="referrals_tier"),
    path("referrals/programs/", views.program_list, name="referrals_programs"),
    path("referrals/programs/<int:program_id>/", views.program_edit, name="referrals_program"),
    path("referrals/programs/<int:program_id>/rules/", views.program_rule_add, name="referrals_program_rule"),
    path("referrals/rewards/", views.reward_list, name="referrals_rewards"),
    path("referrals/rewards/<int:reward_id>/approve/", views.reward_approve, name="referrals_reward_approve"),
    path("referrals/rewards/<int:reward_id>/pay/", views.reward_pay, name="referrals_reward_pay"),
    # Partner portal
    path("portal/", portal_views.home, name="portal_home"),
    path("portal/referrals.json", portal_views.referrals_json, name="portal_referrals_json"),
    path("portal/referrals/new/", portal_views.referral_new, name="portal_referral_new"),
    path("portal/referrals/<int:referral_id>/", portal_views.referral_detail, name="portal_referral"),
    path("portal/rewards/", portal_views.rewards, name="portal_rewards"),
    path("portal/rewards/<int:reward_id>/", portal_views.reward_detail, name="portal_reward"),
]
