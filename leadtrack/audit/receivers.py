"""Sign-ins, successful or not: pre-tenant events (no organization is chosen yet).

ASVS 16.3.1: every authentication attempt is logged. The audit row names the account by id
when the attempted username is one (never the username itself: it is personal data, and an
unknown one may be a password typed into the wrong field); the log line carries it, escaped.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed

from leadtrack.audit import context
from leadtrack.audit.models import Action
from leadtrack.audit.services import audit_record


def on_login(sender, request, user, **kwargs) -> None:
    context.bind(user_id=user.pk)
    audit_record(
        org=None, action=Action.LOGIN_SUCCESS, actor_user_id=user.pk, object_type="user", object_id=user.pk
    )


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username") or credentials.get("email") or "")
    user_model = get_user_model()
    user_id = (
        user_model._default_manager.filter(**{f"{user_model.USERNAME_FIELD}__iexact": username})
        .values_list("pk", flat=True)
        .first()
        if username
        else None
    )
    audit_record(
        org=None,
        action=Action.LOGIN_FAILURE,
        object_type="user",
        object_id=user_id,
        label=username,
        level=logging.WARNING,
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="audit.on_login")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.on_login_failed")
