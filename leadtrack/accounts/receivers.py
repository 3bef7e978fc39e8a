"""A new sign-in starts unverified: a second factor passed earlier in this browser does not carry over."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from leadtrack.accounts import mfa


@receiver(user_logged_in, dispatch_uid="accounts.mfa_forget_on_login")
def mfa_forget_on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        mfa.session_forget(request)
