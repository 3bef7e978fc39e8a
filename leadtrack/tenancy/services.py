from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Invitation, Membership, Organization
from leadtrack.tenancy.roles import Role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def organization_create(
    *, slug: str, name: str, admin: User, time_zone: str = "UTC", currency: str = "USD"
) -> Organization:
    """Create an organization and make ``admin`` its first admin.

    Raises ValidationError (field ``slug``) when the slug is taken or invalid.
    """
    organization = Organization(slug=slug.lower(), name=name, time_zone=time_zone, currency=currency.upper())
    organization.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as exc:
        raise ValidationError({"slug": "This address is taken."}) from exc
    with tenant_context(organization):
        Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)
    return organization


def membership_ensure(*, org: Organization, user: User, role: str) -> Membership:
    """Give ``user`` a membership with ``role`` (idempotent: an existing one is kept as is)."""
    membership, _ = Membership.objects.get_or_create(organization=org, user=user, defaults={"role": role})
    return membership


def _ensure_an_admin_remains(*, org: Organization, changing: Membership) -> None:
    if changing.role != Role.ADMIN:
        return
    others = Membership.objects.filter(organization=org, role=Role.ADMIN).exclude(pk=changing.pk)
    if not others.exists():
        raise ValidationError("An organization needs at least one admin.")


@transaction.atomic
def membership_change_role(*, org: Organization, membership_id: int, role: str) -> Membership:
    """Change a member's role; refuses to leave the organization without an admin."""
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})
    membership = Membership.objects.select_for_update().get(organization=org, pk=membership_id)
    if role != Role.ADMIN:
        _ensure_an_admin_remains(org=org, changing=membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, org: Organization, membership_id: int) -> None:
    """Remove a member; refuses to remove the last admin."""
    membership = Membership.objects.select_for_update().get(organization=org, pk=membership_id)
    _ensure_an_admin_remains(org=org, changing=membership)
    membership.delete()


@transaction.atomic
def invitation_create(*, org: Organization, actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``; e-mails a single-use link that expires.

    Returns the invitation and the raw token (shown nowhere else: only its hash is stored).
    """
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})
    if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
        raise ValidationError({"email": "This person is already a member."})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=org,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    link = settings.SITE_URL.rstrip("/") + reverse(
        "invitation_accept", kwargs={"org_slug": org.slug, "token": token}
    )
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {org.name} on LeadTrack",
            message=f"{actor} invited you to join {org.name} as {Role(role).label}.\n\n"
            f"Accept within {settings.INVITATION_MAX_AGE_DAYS} days: {link}\n",
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, token


def invitation_get_valid(*, org: Organization, token: str) -> Invitation | None:
    """The pending, unexpired invitation for ``token``, or None (expired, used, unknown alike)."""
    return Invitation.objects.filter(
        organization=org,
        token_hash=_token_hash(token),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


@transaction.atomic
def invitation_accept(*, org: Organization, token: str, user: User) -> Membership:
    """Accept an invitation as ``user``: the invited e-mail must be theirs. Single use."""
    invitation = invitation_get_valid(org=org, token=token)
    if invitation is None:
        raise ValidationError("This invitation has expired or was already used.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has expired or was already used.")
    if invitation.email != user.email.lower():
        raise ValidationError("This invitation was sent to another e-mail address.")
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership_ensure(org=org, user=user, role=invitation.role)


@transaction.atomic
def invitation_revoke(*, org: Organization, invitation_id: int) -> None:
    Invitation.objects.filter(organization=org, pk=invitation_id, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )
