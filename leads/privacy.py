"""Personal data held by leads: the lead's fields, its change history, activities and stage
transitions. Registered with the privacy registry (leadtrack/privacy/registry.py).

Erasure anonymises rather than deletes: the lead row, its stage, dates, amounts, source and
campaign stay, so funnel counts and metrics are unchanged; what names the person goes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from django.db.models import F, Q

from funnel.models import StageTransition
from leads.models import Activity, ConsentRecord, Lead, LeadChange, SavedView, Via
from leads.rules import domain_from
from leadtrack.privacy.registry import PERSONAL_KEYS, REDACTED, Subject, redact_json, register, scrub_text

LEAD_EXPORT_FIELDS = (
    "id",
    "company",
    "contact_name",
    "email",
    "phone",
    "job_title",
    "website",
    "country",
    "region",
    "employees",
    "segment",
    "stage",
    "score",
    "external_id",
    "notes",
    "expected_amount",
    "won_amount",
    "currency",
    "created_at",
    "updated_at",
    "reached_mql_at",
    "reached_sql_at",
    "reached_opportunity_at",
    "closed_at",
    "close_reason",
    "first_contacted_at",
    "first_meeting_at",
    "deleted_at",
    "merged_into_id",
    "lawful_basis",
    "marketing_withdrawn_at",
)
ACTIVITY_FREE_TEXT = ("subject", "body", "url", "referrer_url")


def _saved_views(subject: Subject) -> list[SavedView]:
    """Saved lead-list filters whose query (URL-encoded: '@' is '%40') searches for the person."""
    if not subject.identifiers:
        return []
    views = SavedView.objects.filter(organization=subject.organization).exclude(query="").order_by("pk")
    return [view for view in views if subject.names_in(unquote_plus(view.query))]


def _export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    org, ids = subject.organization, subject.lead_ids
    leads = [
        {**row, "source": row.pop("source__name") or "", "campaign": row.pop("campaign__name") or ""}
        for row in Lead.objects.filter(organization=org, pk__in=ids)
        .order_by("pk")
        .values(*LEAD_EXPORT_FIELDS, "source__name", "campaign__name")
    ]
    for row in leads:
        row["country"] = str(row["country"] or "")
    changes = list(
        LeadChange.objects.filter(organization=org, lead_id__in=ids)
        .order_by("changed_at", "pk")
        .values("id", "lead_id", "changed_at", "via", "changes")
    )
    activities = list(
        Activity.objects.filter(organization=org, lead_id__in=ids)
        .order_by("occurred_at", "pk")
        .values(
            "id",
            "lead_id",
            "kind",
            "occurred_at",
            "via",
            *ACTIVITY_FREE_TEXT,
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
        )
    )
    transitions = list(
        StageTransition.objects.filter(organization=org, lead_id__in=ids)
        .order_by("at", "pk")
        .values("id", "lead_id", "from_stage", "to_stage", "at", "via", "reason")
    )
    saved_views = [{"id": view.pk, "name": view.name, "query": view.query} for view in _saved_views(subject)]
    consents = list(
        ConsentRecord.objects.filter(organization=org, lead_id__in=ids)
        .order_by("recorded_at", "pk")
        .values("id", "lead_id", "action", "text", "recorded_at", "via", "source")
    )
    return {
        "consents": consents,
        "leads": leads,
        "changes": changes,
        "activities": activities,
        "stage_transitions": transitions,
        "saved_views": saved_views,
    }


def _redacted_changes(changes: dict[str, Any], subject: Subject) -> dict[str, Any]:
    """A history entry with the person's old and new values replaced; field names kept."""
    out = {}
    for field, pair in changes.items():
        if field in PERSONAL_KEYS or (field == "company" and subject.names_in(str(pair))):
            out[field] = [REDACTED if value not in (None, "") else value for value in pair]
        else:
            out[field] = redact_json(pair, subject)
    return out


def _anonymised_values(lead: Lead, subject: Subject) -> dict[str, Any]:
    company = scrub_text(lead.company, subject.identifiers)
    website = "" if subject.names_in(lead.website) else lead.website
    return {
        "company": company,
        # The row must keep an identity (lead_has_identity) and stay unique per domain.
        "contact_name": "" if company else f"Erased #{lead.pk}",
        "email": "",
        "phone": "",
        "job_title": "",
        "notes": "",
        "external_id": "",
        "close_reason": "",
        "website": website,
        # From the website only: an address's domain may be the person's own.
        "domain": domain_from(website=website, email=""),
    }


def _erase(subject: Subject) -> dict[str, int]:
    org, ids = subject.organization, subject.lead_ids
    activities = (
        Activity.objects.filter(organization=org, lead_id__in=ids)
        .filter(~Q(subject="") | ~Q(body="") | ~Q(url="") | ~Q(referrer_url=""))
        .update(subject="", body="", url="", referrer_url="")
    )
    transitions = (
        StageTransition.objects.filter(organization=org, lead_id__in=ids).exclude(reason="").update(reason="")
    )

    changes = 0
    history = LeadChange.objects.filter(organization=org, lead_id__in=ids).only("pk", "changes")
    for change in history:
        redacted = _redacted_changes(change.changes, subject)
        if redacted != change.changes:
            LeadChange.objects.filter(organization=org, pk=change.pk).update(changes=redacted)
            changes += 1

    leads = 0
    for lead in Lead.objects.filter(organization=org, pk__in=ids).select_for_update().order_by("pk"):
        values = _anonymised_values(lead, subject)
        if all(getattr(lead, field) == value for field, value in values.items()):
            continue
        # A queryset update: the anonymised row is no longer a valid lead for lead_update
        # (no e-mail, maybe a placeholder name) and must not re-run de-duplication.
        Lead.objects.filter(organization=org, pk=lead.pk).update(**values, version=F("version") + 1)
        LeadChange.objects.create(
            organization=org, lead=lead, actor=None, via=Via.SYSTEM, changes={"erased": [False, True]}
        )
        leads += 1
    # Consent records stay as proof of what was agreed and withdrawn, and when (the wording is the
    # organization's); where it happened may name the person (a page URL with their address).
    consents = 0
    for record in ConsentRecord.objects.filter(organization=org, lead_id__in=ids).only("pk", "source"):
        source = scrub_text(unquote_plus(record.source), subject.identifiers)
        if source != record.source:
            ConsentRecord.objects.filter(organization=org, pk=record.pk).update(source=source)
            consents += 1
    saved_views = 0
    for view in _saved_views(subject):
        kept = [(key, value) for key, value in parse_qsl(view.query) if not subject.names_in(value)]
        SavedView.objects.filter(organization=subject.organization, pk=view.pk).update(query=urlencode(kept))
        saved_views += 1
    return {
        "consents": consents,
        "leads": leads,
        "changes": changes,
        "activities": activities,
        "stage_transitions": transitions,
        "saved_views": saved_views,
    }


register(
    "leads",
    export=_export,
    erase=_erase,
    order=100,
    description=(
        "Leads (contact fields, notes, close reason, external id), their change history with old "
        "values, activities' subjects, bodies and URLs, stage-change reasons, and saved lead-list "
        "filters that search for the person (the search term is removed)."
    ),
)
