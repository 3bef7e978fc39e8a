from django.urls import path

from referrals import public_views

# Mounted at /r/ (public, no organization in the path).
urlpatterns = [
    path("<str:code>", public_views.referral_form, name="referral_public"),
    path("<str:code>/thanks", public_views.referral_thanks, name="referral_public_thanks"),
]
