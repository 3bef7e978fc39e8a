"""Reads of API keys, webhook endpoints and deliveries."""

from __future__ import annotations

import hashlib
import hmac

from django.db import connection
from django.db.models import F, QuerySet

from leadtrack import caching
from leadtrack.accounts.models import User
from leadtrack.api.models import KEY_LOOKUP_SETTING, ApiKey, WebhookDelivery, WebhookEndpoint
from leadtrack.tenancy.models import Organization

KEY_PREFIX = "lt_"
# A live key is kept this long after it was read. A revocation forgets it at once and again on
# commit; only a request that read the row just before the revocation committed can put it back,
# and then for at most this long.
API_KEY_CACHE_SECONDS = 60


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_cache_key(prefix: str) -> str:
    return f"api:key:{prefix}"


def _live_key(prefix: str) -> ApiKey | None:
    """The read that happens before an organization is known: the transaction-local
    ``app.api_key_prefix`` makes exactly the row with the presented prefix visible
    (the api_key_lookup policy)."""
    if not connection.in_atomic_block:
        raise RuntimeError("api_key_for_token needs a transaction: the lookup setting is transaction-local")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [KEY_LOOKUP_SETTING, prefix])
    return (
        ApiKey.unscoped.select_related("organization").filter(prefix=prefix, revoked_at__isnull=True).first()
    )


def api_key_for_token(*, token: str) -> ApiKey | None:
    """The live key a client presented (its organization loaded), or None. Runs inside the
    request's transaction.

    Every API request starts here, so the key row and its organization's are kept in the
    cache, forgotten by api/receivers.py when either is saved or deleted. The presented
    secret's hash is compared in constant time on every call.
    """
    parts = token.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    key = caching.read_through(
        api_key_cache_key(parts[1]), API_KEY_CACHE_SECONDS, lambda: _live_key(parts[1])
    )
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(token)):
        return None
    return key


def api_keys_for_org(*, org: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=org).select_related("created_by").order_by("-created_at")


def webhook_endpoints_for_org(*, org: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=org).order_by("created_at")


def webhook_endpoint_get(*, org: Organization, endpoint_id: int) -> WebhookEndpoint:
    """Raises WebhookEndpoint.DoesNotExist (→ 404) for another organization's endpoint."""
    return WebhookEndpoint.objects.get(organization=org, pk=endpoint_id)


def webhook_deliveries(
    *, org: Organization, endpoint: WebhookEndpoint, limit: int = 100
) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(organization=org, endpoint=endpoint).order_by("-created_at", "-id")[
            :limit
        ]
    )


def webhook_delivery_get(*, org: Organization, delivery_id: int) -> WebhookDelivery:
    """Raises WebhookDelivery.DoesNotExist (→ 404) for another organization's delivery."""
    return WebhookDelivery.objects.get(organization=org, pk=delivery_id)


def organization_people(*, org: Organization) -> QuerySet:
    """Active people with a membership of ``org`` and their role there, as dicts (id, email,
    full_name, role). One filter call, so the role comes from that same membership row."""
    return User.objects.filter(memberships__organization=org, is_active=True).values(
        "id", "email", "full_name", role=F("memberships__role")
    )
