"""Domain events → webhook deliveries, and the cached API keys kept in step. Connected in
ApiConfig.ready().

The lead signals are sent after the write committed; a failure to queue a
webhook must not turn that committed write into an error response, so it is
logged (with the traceback) instead of raised.
"""

from __future__ import annotations

import logging

from django.db.models.signals import post_delete, post_save

from leads import signals
from leads.api.serializers import lead_instance_json
from leads.models import Lead
from leadtrack import caching
from leadtrack.api.models import ApiKey, WebhookEvent
from leadtrack.api.selectors import api_key_cache_key
from leadtrack.api.services import emit, emit_many
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization
from referrals import signals as referral_signals
from referrals.models import Referral

# What an integration learns about a referral: identity, status and links, no free text
# a partner typed (notes) and nothing of the review beyond the status.
REFERRAL_WEBHOOK_FIELDS = (
    "id",
    "status",
    "referrer_kind",
    "program_id",
    "partner_id",
    "lead_id",
    "company",
    "contact_name",
    "email",
    "submitted_at",
    "status_changed_at",
    "expires_at",
)

logger = logging.getLogger(__name__)


def _lead_payload(organization_id: int, lead_id: int, **extra):
    def build():
        lead = Lead.objects.filter(organization_id=organization_id, pk=lead_id).first()
        return {"lead": lead_instance_json(lead) if lead else {"id": lead_id}, **extra}

    return build


def _emit_safely(organization_id: int, event: str, payload) -> None:
    try:
        emit(organization_id, event, payload)
    except Exception:
        logger.exception("could not queue webhook %s for organization %s", event, organization_id)


def on_lead_created(sender, *, organization_id: int, lead_id: int, via: str, **kwargs) -> None:
    _emit_safely(organization_id, WebhookEvent.LEAD_CREATED, _lead_payload(organization_id, lead_id, via=via))


def on_leads_created(sender, *, organization_id: int, lead_ids: list[int], via: str, **kwargs) -> None:
    def build():
        leads = Lead.objects.filter(organization_id=organization_id, pk__in=lead_ids).order_by("pk")
        return [{"lead": lead_instance_json(lead), "via": via} for lead in leads]

    try:
        emit_many(organization_id, WebhookEvent.LEAD_CREATED, build)
    except Exception:
        logger.exception(
            "could not queue webhooks for %s new leads (organization %s)", len(lead_ids), organization_id
        )


def on_lead_updated(sender, *, organization_id: int, lead_id: int, via: str, changes=None, **kwargs) -> None:
    payload = _lead_payload(organization_id, lead_id, via=via, changes=changes or {})
    _emit_safely(organization_id, WebhookEvent.LEAD_UPDATED, payload)


def on_lead_stage_changed(
    sender, *, organization_id: int, lead_id: int, via: str, from_stage: str, to_stage: str, **kwargs
) -> None:
    payload = _lead_payload(organization_id, lead_id, via=via, from_stage=from_stage, to_stage=to_stage)
    _emit_safely(organization_id, WebhookEvent.LEAD_STAGE_CHANGED, payload)


def _referral_payload(organization_id: int, referral_id: int, **extra):
    def build():
        referral = (
            Referral.objects.filter(organization_id=organization_id, pk=referral_id)
            .values(*REFERRAL_WEBHOOK_FIELDS)
            .first()
        )
        return {"referral": referral or {"id": referral_id}, **extra}

    return build


def on_referral_created(sender, *, organization_id: int, referral_id: int, **kwargs) -> None:
    _emit_safely(
        organization_id, WebhookEvent.REFERRAL_CREATED, _referral_payload(organization_id, referral_id)
    )


def on_referral_status_changed(
    sender, *, organization_id: int, referral_id: int, from_status: str, to_status: str, **kwargs
) -> None:
    payload = _referral_payload(organization_id, referral_id, from_status=from_status, to_status=to_status)
    _emit_safely(organization_id, WebhookEvent.REFERRAL_STATUS_CHANGED, payload)


def forget_api_key(sender, *, instance: ApiKey, **kwargs) -> None:
    """A revoked, changed or deleted key is read from the database on its next use."""
    caching.forget(api_key_cache_key(instance.prefix))


def forget_organization_api_keys(sender, *, instance: Organization, **kwargs) -> None:
    """The cached keys carry their organization's row: a changed one is read again with them."""
    with tenant_context(instance):
        prefixes = list(ApiKey.objects.values_list("prefix", flat=True))
    if prefixes:
        caching.forget(*(api_key_cache_key(prefix) for prefix in prefixes))


def connect() -> None:
    post_save.connect(forget_api_key, sender=ApiKey, dispatch_uid="api_key_forget_saved")
    post_delete.connect(forget_api_key, sender=ApiKey, dispatch_uid="api_key_forget_deleted")
    post_save.connect(forget_organization_api_keys, sender=Organization, dispatch_uid="api_keys_forget_org")
    signals.lead_created.connect(on_lead_created, dispatch_uid="webhooks_lead_created")
    signals.leads_created.connect(on_leads_created, dispatch_uid="webhooks_leads_created")
    signals.lead_updated.connect(on_lead_updated, dispatch_uid="webhooks_lead_updated")
    signals.lead_stage_changed.connect(on_lead_stage_changed, dispatch_uid="webhooks_lead_stage_changed")
    referral_signals.referral_created.connect(on_referral_created, dispatch_uid="webhooks_referral_created")
    referral_signals.referral_status_changed.connect(
        on_referral_status_changed, dispatch_uid="webhooks_referral_status_changed"
    )
