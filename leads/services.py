"""Writes to leads and activities. Every path (UI, API, importer, portal, tasks) comes here."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from funnel.models import StageTransition
from funnel.routing.services import lead_route_new, lead_routing_record
from funnel.stages import Stage
from leads import rules, signals
from leads.models import (
    MEETING_KINDS,
    OUTBOUND_KINDS,
    Activity,
    ActivityKind,
    ConsentAction,
    ConsentRecord,
    LawfulBasis,
    Lead,
    LeadChange,
    Via,
)
from leadtrack.accounts.models import User
from leadtrack.audit.models import Action
from leadtrack.audit.services import audit_record_many, lead_event
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role

# Fields a person or an integration may set directly. Stage, score and the
# funnel timestamps change only through their own services.
LEAD_WRITABLE_FIELDS = (
    "company",
    "contact_name",
    "email",
    "phone",
    "job_title",
    "website",
    "country",
    "industry",
    "employees",
    "source",
    "campaign",
    "owner",
    "expected_amount",
    "currency",
    "won_amount",
    "value_12m",
    "external_id",
    "notes",
)
# Shown in the change history; derived fields follow their inputs.
TRACKED_FIELDS = (*LEAD_WRITABLE_FIELDS, "region", "segment")


@dataclass(frozen=True)
class ConsentGiven:
    """A consent as the person gave it: the exact wording, when, and where (in words)."""

    text: str
    at: datetime
    source: str


def default_lawful_basis(*, consent: ConsentGiven | None) -> str:
    """The basis a new lead gets when none is given: consent when the person ticked a consent
    box (a web form), else legitimate interest (imports, API, partner referrals, the app) — the
    basis B2B prospecting relies on, which the person can object to (marketing withdrawal)."""
    return LawfulBasis.CONSENT if consent is not None else LawfulBasis.LEGITIMATE_INTEREST


class LeadError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DuplicateLeadError(LeadError):
    """Another live lead has the same e-mail, or the same company domain and contact name."""

    def __init__(self, existing: Lead, reason: str):
        super().__init__(f"A lead with the same {reason} exists: {existing}.")
        self.existing = existing
        self.reason = reason


class StaleLeadError(LeadError):
    """The lead changed since the writer read it (optimistic concurrency)."""


def _check_unknown_fields(data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(LEAD_WRITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})


def _check_relations(*, org: Organization, lead: Lead) -> None:
    """Related rows must belong to ``org``; the owner must be an internal member."""
    errors = {}
    for field in ("industry", "source", "campaign"):
        related = getattr(lead, field)
        if related is not None and related.organization_id != org.pk:
            errors[field] = "Unknown choice."
    if lead.owner_id is not None:
        member = Membership.objects.filter(organization=org, user_id=lead.owner_id).exclude(role=Role.PARTNER)
        if not member.exists():
            errors["owner"] = "The owner must be a member of this organization."
    if errors:
        raise ValidationError(errors)


def duplicate_of(*, org: Organization, lead: Lead) -> tuple[Lead, str] | None:
    """The live lead that ``lead`` would duplicate, with the reason, or None."""
    # Each key repeats its unique index: the lower-cased columns (Lead.email_lower says why not
    # lower() or iexact), and the "<> ''" conditions that imply the index's WHERE clause, without
    # which PostgreSQL cannot use a partial index and reads every lead of the organization.
    conditions = []
    if lead.email:
        conditions.append((Q(email_lower=lead.email.lower()) & ~Q(email=""), "e-mail"))
    if lead.domain and lead.contact_name:
        conditions.append(
            (
                Q(domain=lead.domain, contact_name_lower=lead.contact_name.lower())
                & ~Q(domain="")
                & ~Q(contact_name=""),
                "company domain and contact name",
            )
        )
    if lead.external_id:
        conditions.append((Q(external_id=lead.external_id) & ~Q(external_id=""), "external id"))
    if not conditions:
        return None
    # One statement for all keys (a BitmapOr of their indexes), the first key in the order
    # above winning when several leads match: it runs on every create.
    rank = Case(
        *(When(condition, then=Value(index)) for index, (condition, _) in enumerate(conditions)),
        output_field=IntegerField(),
    )
    existing = (
        Lead.objects.filter(organization=org, deleted_at__isnull=True)
        .filter(reduce(operator.or_, (condition for condition, _ in conditions)))
        .exclude(pk=lead.pk)
        .annotate(duplicate_rank=rank)
        .order_by("duplicate_rank", "pk")
        .first()
    )
    if existing is None:
        return None
    return existing, conditions[existing.duplicate_rank][1]


def _validate(*, org: Organization, lead: Lead) -> None:
    rules.apply_derived_fields(org=org, lead=lead)
    # Uniqueness is the database's: _duplicates_named turns its refusal into a message.
    lead.full_clean(
        exclude=["organization", "merged_into"], validate_unique=False, validate_constraints=False
    )
    _check_relations(org=org, lead=lead)


@contextmanager
def _duplicates_named(*, org: Organization, lead: Lead) -> Iterator[None]:
    """Turn a unique index's refusal of ``lead`` into DuplicateLeadError naming the lead it duplicates.

    The unique indexes decide (Lead.Meta: every key of duplicate_of is one), also against a
    concurrent writer; duplicate_of runs only when one refuses, to say which lead and why.
    Checking first as well cost every create and update one more statement, for the same answer.
    Wrap a savepoint in it (``with _duplicates_named(...), transaction.atomic():``): the refusal is
    caught once that savepoint has rolled back, when the transaction can run the query again.
    """
    try:
        yield
    except IntegrityError as exc:
        found = duplicate_of(org=org, lead=lead)
        if found:
            raise DuplicateLeadError(*found) from exc
        raise


def _save_guarding_duplicates(*, org: Organization, lead: Lead, **save_kwargs) -> None:
    with _duplicates_named(org=org, lead=lead), transaction.atomic():
        lead.save(**save_kwargs)


def lead_create(
    *,
    org: Organization,
    actor: User | None,
    data: Mapping[str, Any],
    via: str = Via.UI,
    created_at: datetime | None = None,
    lawful_basis: str | None = None,
    consent: ConsentGiven | None = None,
) -> Lead:
    """Create a lead after validation and de-duplication, in one savepoint.

    Raises ValidationError (field errors) or DuplicateLeadError (with the existing lead).
    ``created_at`` may be given by imports and migrations from another CRM. ``lawful_basis``
    defaults per channel (default_lawful_basis); a ``consent`` is kept as a ConsentRecord.
    """
    _check_unknown_fields(data)
    lead = Lead(organization=org, **data)
    lead.lawful_basis = lawful_basis or default_lawful_basis(consent=consent)
    if created_at is not None:
        if created_at > timezone.now():
            raise ValidationError({"created_at": "Cannot be in the future."})
        lead.created_at = created_at
    # One savepoint for everything the create writes, the routing team's turn included. A
    # duplicate refused by a unique index rolls all of it back; _duplicates_named then names it.
    with _duplicates_named(org=org, lead=lead), transaction.atomic():
        # Routing rules give an owner unless one was given (funnel/routing: every channel comes here).
        routing = lead_route_new(org=org, lead=lead, owner_given=data.get("owner") is not None)
        _validate(org=org, lead=lead)
        lead.save()
        if consent is not None:
            _consent_given(org=org, lead=lead, consent=consent, via=via)
        lead_routing_record(org=org, lead=lead, decision=routing)
        StageTransition.objects.create(
            organization=org,
            lead=lead,
            from_stage="",
            to_stage=Stage.LEAD,
            at=lead.created_at,
            by=actor,
            via=via,
        )
        _audit(
            org=org,
            actor=actor,
            via=via,
            events=[lead_event(action=Action.LEAD_CREATE, lead=lead, fields=data)],
        )
        transaction.on_commit(
            lambda: signals.lead_created.send(
                sender=Lead,
                organization_id=org.pk,
                lead_id=lead.pk,
                actor_id=actor.pk if actor else None,
                via=via,
            )
        )
    return lead


def _display(lead: Lead, field: str) -> Any:
    value = getattr(lead, field)
    if value is None:
        return None
    if hasattr(value, "_meta"):
        return str(value)
    if field == "country":
        return str(value)
    return value


@transaction.atomic
def lead_update(
    *,
    org: Organization,
    actor: User | None,
    lead_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    via: str = Via.UI,
) -> Lead:
    """Change a lead's fields and record who changed what.

    Raises Lead.DoesNotExist (→ 404), StaleLeadError when ``expected_version`` is
    not the current one, ValidationError, or DuplicateLeadError.
    """
    _check_unknown_fields(data)
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    if expected_version is not None and lead.version != expected_version:
        raise StaleLeadError(
            "This lead was changed by someone else since you opened it. Reload and try again."
        )
    before = {field: _display(lead, field) for field in TRACKED_FIELDS}
    for field, value in data.items():
        setattr(lead, field, value)
    _validate(org=org, lead=lead)
    changes = {
        field: [before[field], _display(lead, field)]
        for field in TRACKED_FIELDS
        if before[field] != _display(lead, field)
    }
    if not changes:
        return lead
    lead.version += 1
    _save_guarding_duplicates(org=org, lead=lead)
    LeadChange.objects.create(organization=org, lead=lead, actor=actor, via=via, changes=_jsonable(changes))
    _audit(
        org=org,
        actor=actor,
        via=via,
        events=[lead_event(action=Action.LEAD_UPDATE, lead=lead, fields=changes)],
    )
    transaction.on_commit(
        lambda: signals.lead_updated.send(
            sender=Lead,
            organization_id=org.pk,
            lead_id=lead.pk,
            actor_id=actor.pk if actor else None,
            via=via,
            changes=_jsonable(changes),
        )
    )
    return lead


def _audit(*, org: Organization, actor: User | None, via: str, events: list) -> None:
    """Every lead write path ends here: the audit rows join the write's transaction (D14)."""
    audit_record_many(org=org, events=events, actor_user_id=actor.pk if actor else None, via=via)


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {
        field: [
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
            for value in pair
        ]
        for field, pair in changes.items()
    }


@transaction.atomic
def lead_delete(*, org: Organization, actor: User | None, lead_id: int, via: str = Via.UI) -> None:
    """Soft-delete: the lead leaves lists, exports and metrics; its e-mail may be used again."""
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    lead.deleted_at = timezone.now()
    lead.version += 1
    lead.save(update_fields=["deleted_at", "version", "updated_at"])
    LeadChange.objects.create(
        organization=org, lead=lead, actor=actor, via=via, changes={"deleted": [False, True]}
    )
    _audit(
        org=org, actor=actor, via=via, events=[lead_event(action=Action.LEAD_DELETE, lead=lead, fields=[])]
    )


_MERGE_EARLIEST = (
    "created_at",
    "reached_mql_at",
    "reached_sql_at",
    "reached_opportunity_at",
    "first_contacted_at",
    "first_meeting_at",
)


@transaction.atomic
def lead_merge(*, org: Organization, actor: User | None, primary_id: int, duplicate_id: int) -> Lead:
    """Merge ``duplicate`` into ``primary``: both histories are kept on the primary.

    Activities, stage transitions and change history move to the primary; its
    blank fields are filled from the duplicate; funnel timestamps keep the
    earliest of the two; the duplicate is soft-deleted and points at the primary.
    """
    if primary_id == duplicate_id:
        raise ValidationError("A lead cannot be merged into itself.")
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(organization=org, pk__in=[primary_id, duplicate_id], deleted_at__isnull=True)
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Lead.DoesNotExist("Lead not found")
    primary, duplicate = locked[primary_id], locked[duplicate_id]

    filled = {}
    for field in LEAD_WRITABLE_FIELDS:
        if field == "external_id":
            continue
        if getattr(primary, field) in (None, "") and getattr(duplicate, field) not in (None, ""):
            filled[field] = [None, _display(duplicate, field)]
            setattr(primary, field, getattr(duplicate, field))
    for field in _MERGE_EARLIEST:
        values = [v for v in (getattr(primary, field), getattr(duplicate, field)) if v is not None]
        setattr(primary, field, min(values) if values else None)

    # Free the duplicate's unique keys before the primary takes any of them.
    duplicate.deleted_at = timezone.now()
    duplicate.merged_into = primary
    duplicate.version += 1
    duplicate.save(update_fields=["deleted_at", "merged_into", "version", "updated_at"])

    Activity.objects.filter(organization=org, lead=duplicate).update(lead=primary)
    StageTransition.objects.filter(organization=org, lead=duplicate).update(lead=primary)
    LeadChange.objects.filter(organization=org, lead=duplicate).update(lead=primary)

    rules.apply_derived_fields(org=org, lead=primary)
    primary.version += 1
    # A field filled from the duplicate may collide with a third lead: refuse, roll back.
    found = duplicate_of(org=org, lead=primary)
    if found:
        raise DuplicateLeadError(*found)
    _save_guarding_duplicates(org=org, lead=primary)
    LeadChange.objects.create(
        organization=org,
        lead=primary,
        actor=actor,
        via=Via.UI,
        changes={"merged_from": [None, f"#{duplicate.pk} {duplicate}"], **_jsonable(filled)},
    )
    _audit(
        org=org,
        actor=actor,
        via=Via.UI,
        events=[
            lead_event(action=Action.LEAD_UPDATE, lead=primary, fields=[*filled, "merged_from"]),
            lead_event(action=Action.LEAD_DELETE, lead=duplicate, fields=["merged_into"]),
        ],
    )
    return primary


@transaction.atomic
def activity_log(
    *,
    org: Organization,
    actor: User | None,
    lead_id: int,
    kind: str,
    occurred_at: datetime | None = None,
    via: str = Via.UI,
    **fields: Any,
) -> Activity:
    """Add a touchpoint to a lead's timeline.

    The first outbound touch (e-mail sent, call, meeting, demo) sets
    ``first_contacted_at``; the first meeting or demo sets ``first_meeting_at``.
    An earlier touch logged later (an import) moves them earlier, never later.
    """
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": "Unknown activity type."})
    lead = Lead.objects.get(organization=org, pk=lead_id, deleted_at__isnull=True)
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"occurred_at": "Cannot be in the future."})
    activity = Activity(
        organization=org, lead=lead, kind=kind, occurred_at=occurred_at, actor=actor, via=via, **fields
    )
    activity.full_clean(exclude=["organization", "lead", "actor"])
    activity.save()
    if kind in OUTBOUND_KINDS:
        Lead.objects.filter(organization=org, pk=lead.pk).filter(
            Q(first_contacted_at__isnull=True) | Q(first_contacted_at__gt=occurred_at)
        ).update(first_contacted_at=occurred_at)
    if kind in MEETING_KINDS:
        Lead.objects.filter(organization=org, pk=lead.pk).filter(
            Q(first_meeting_at__isnull=True) | Q(first_meeting_at__gt=occurred_at)
        ).update(first_meeting_at=occurred_at)
    transaction.on_commit(
        lambda: signals.activity_logged.send(
            sender=Activity, organization_id=org.pk, lead_id=lead.pk, activity_id=activity.pk, kind=kind
        )
    )
    return activity


# --- consent and lawful basis (GDPR Art. 6, 7, 21) ------------------------------------------------


def _consent_given(*, org: Organization, lead: Lead, consent: ConsentGiven, via: str) -> ConsentRecord:
    return ConsentRecord.objects.create(
        organization=org,
        lead=lead,
        action=ConsentAction.GIVEN,
        text=consent.text[:1000],
        recorded_at=consent.at,
        via=via,
        source=consent.source[:300],
    )


@transaction.atomic
def lead_consent_record(*, org: Organization, lead_id: int, consent: ConsentGiven, via: str) -> ConsentRecord:
    """Keep a consent the person gave again (a form posted by a known lead). A consent given
    after a withdrawal is a new opt-in: the lead is in marketing again. The lawful basis stays
    as the organization chose it. Raises Lead.DoesNotExist."""
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    record = _consent_given(org=org, lead=lead, consent=consent, via=via)
    if lead.marketing_withdrawn_at is not None and lead.marketing_withdrawn_at < consent.at:
        lead.marketing_withdrawn_at = None
        lead.version += 1
        lead.save(update_fields=["marketing_withdrawn_at", "version", "updated_at"])
        LeadChange.objects.create(
            organization=org, lead=lead, actor=None, via=via, changes={"marketing_withdrawn": [True, False]}
        )
    return record


@transaction.atomic
def lead_lawful_basis_set(
    *, org: Organization, actor: User | None, lead_id: int, lawful_basis: str, via: str = Via.UI
) -> Lead:
    """Change the basis the organization relies on (recorded in the history). Raises
    ValidationError for an unknown basis, Lead.DoesNotExist."""
    if lawful_basis not in LawfulBasis.values:
        raise ValidationError({"lawful_basis": f"Choose one of {', '.join(LawfulBasis.values)}."})
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    if lead.lawful_basis == lawful_basis:
        return lead
    changes = {"lawful_basis": [lead.lawful_basis, lawful_basis]}
    lead.lawful_basis = lawful_basis
    lead.version += 1
    lead.save(update_fields=["lawful_basis", "version", "updated_at"])
    LeadChange.objects.create(organization=org, lead=lead, actor=actor, via=via, changes=changes)
    return lead


@transaction.atomic
def lead_marketing_withdraw(
    *,
    org: Organization,
    actor: User | None,
    lead_id: int,
    via: str = Via.UI,
    source: str = "",
    now: datetime | None = None,
) -> Lead:
    """The person withdrew consent to, or objected to, marketing (Art. 7(3), 21(2)): record it,
    with who and where, and keep the lead out of marketing exports from now on (leads.exports).
    The lead stays for sales and service. Idempotent: a second withdrawal changes nothing.
    Raises Lead.DoesNotExist."""
    lead = Lead.objects.select_for_update().get(organization=org, pk=lead_id, deleted_at__isnull=True)
    if lead.marketing_withdrawn_at is not None:
        return lead
    now = now or timezone.now()
    lead.marketing_withdrawn_at = now
    lead.version += 1
    lead.save(update_fields=["marketing_withdrawn_at", "version", "updated_at"])
    ConsentRecord.objects.create(
        organization=org,
        lead=lead,
        action=ConsentAction.WITHDRAWN,
        recorded_at=now,
        via=via,
        source=source[:300],
        actor=actor,
    )
    LeadChange.objects.create(
        organization=org, lead=lead, actor=actor, via=via, changes={"marketing_withdrawn": [False, True]}
    )
    return lead
