from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from leadtrack.accounts.models import User
from leadtrack.tenancy.context import set_db_user
from leadtrack.tenancy.models import Invitation, Membership, Organization
from leadtrack.tenancy.roles import INTERNAL


def memberships_for_user(*, user: User) -> list[Membership]:
    """The user's memberships in every organization (the organization switcher).

    Reads across tenants on purpose, and only the user's own rows: the
    membership policy admits rows whose user is the ``app.user_id`` setting.
    """
    with transaction.atomic():
        set_db_user(user.pk)
        return list(
            Membership.unscoped.filter(user=user)
            .select_related("organization")
            .order_by("organization__name")
        )


def organization_members(*, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=org).select_related("user").order_by("user__email")


def internal_users(*, org: Organization) -> QuerySet[User]:
    """People with an internal membership of ``org``: who may own a lead (partners never do).

    One filter() on the membership, so the role judged is the one in ``org`` whatever the
    person's memberships elsewhere (which row-level security hides anyway).
    """
    return User.objects.filter(memberships__organization=org, memberships__role__in=INTERNAL).order_by(
        "full_name", "email"
    )


def pending_invitations(*, org: Organization) -> QuerySet[Invitation]:
    from django.utils import timezone

    return Invitation.objects.filter(
        organization=org, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")
