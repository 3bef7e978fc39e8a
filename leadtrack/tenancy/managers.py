from __future__ import annotations

from django.db import models

from leadtrack.tenancy.context import current_organization


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: scoped to the active organization.

    Raises TenantNotActiveError when no organization is active, so a query that
    forgot its tenant fails loudly instead of returning everyone's rows.
    Reaching across tenants takes ``Model.unscoped`` (grep for it).
    """

    def get_queryset(self) -> TenantQuerySet:
        organization = current_organization()
        return super().get_queryset().filter(organization_id=organization.pk)
