"""Celery's side of tenancy.

``OrgTask`` is the base of every task that touches tenant data. The task
declares a keyword-only ``organization_id: int`` and is called with it; the
base runs the body inside that organization (ORM scope, RLS setting, one
transaction), so a killed worker leaves nothing half-written. Tasks without
a tenant (beat fan-outs) use the plain base and see no tenant rows.
"""

from __future__ import annotations

from celery.contrib.django.task import DjangoTask

from leadtrack.tenancy.context import current_organization_or_none, tenant_context
from leadtrack.tenancy.models import Organization


class OrgTask(DjangoTask):
    abstract = True

    def __call__(self, *args, **kwargs):
        organization_id = kwargs.get("organization_id")
        if organization_id is None:
            raise TypeError(f"{self.name} is an organization task: call it with organization_id=")
        organization = Organization.objects.get(pk=organization_id)
        active = current_organization_or_none()
        if active is not None and active.pk != organization_id:
            # Eager execution inside another tenant's request must not mix contexts.
            raise RuntimeError("OrgTask called inside another organization's context")
        with tenant_context(organization):
            return super().__call__(*args, **kwargs)
