"""The cached organization rows kept in step (tenancy.selectors.organization_cached).
Connected in TenancyConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from leadtrack import caching
from leadtrack.tenancy.models import Organization
from leadtrack.tenancy.selectors import organization_cache_key


def forget_organization(sender, *, instance: Organization, **kwargs) -> None:
    caching.forget(organization_cache_key(instance.pk))


def connect() -> None:
    post_save.connect(forget_organization, sender=Organization, dispatch_uid="organization_forget_saved")
    post_delete.connect(forget_organization, sender=Organization, dispatch_uid="organization_forget_deleted")
