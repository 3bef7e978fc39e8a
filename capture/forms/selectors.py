"""Reads of lead forms and submissions."""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import Count, QuerySet

from capture.forms.models import FORM_KEY_LOOKUP_SETTING, FormSubmission, LeadForm
from leadtrack.tenancy.models import Organization

_KEY_SHAPE = re.compile(r"[-_A-Za-z0-9]{16,64}")


def form_for_key(*, key: str) -> LeadForm | None:
    """The active form a public request names by its key, with its organization, or None.

    The one read made before any organization is known, in a short transaction of its
    own (the tenant transaction opens after it): the transaction-local ``app.form_key``
    makes exactly the row with that key visible (policy webforms_form_key_lookup,
    migration 0002); nobody can list forms without an organization.
    """
    if not _KEY_SHAPE.fullmatch(key):
        return None
    nested = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [FORM_KEY_LOOKUP_SETTING, key])
        form = LeadForm.unscoped.select_related("organization").filter(key=key, is_active=True).first()
        if nested:
            # Only under an enclosing transaction (tests) could the setting outlive the lookup.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', true)", [FORM_KEY_LOOKUP_SETTING])
    return form


def form_list(*, org: Organization) -> QuerySet[LeadForm]:
    return (
        LeadForm.objects.filter(organization=org)
        .select_related("source", "campaign")
        .annotate(submission_count=Count("submissions"))
        .order_by("name", "pk")
    )


def form_get(*, org: Organization, form_id: int) -> LeadForm:
    """Raises LeadForm.DoesNotExist for another organization's form (→ 404)."""
    return LeadForm.objects.select_related("source", "campaign").get(organization=org, pk=form_id)


def submission_list(*, org: Organization, form: LeadForm, status: str = "") -> QuerySet[FormSubmission]:
    submissions = FormSubmission.objects.filter(organization=org, form=form).select_related("lead")
    if status:
        submissions = submissions.filter(status=status)
    return submissions.order_by("-created_at", "-pk")
