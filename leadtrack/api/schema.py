"""OpenAPI details drf-spectacular cannot infer: the error responses every operation may
give, the API's description (auth, limits, errors, webhooks), and only /api/v1/ paths."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    type = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PATCH", "PUT"):
            codes += ["409", "412"]
        if self.method == "POST":
            codes += ["422"]
        for code in codes:
            responses.setdefault(
                code, self._get_response_for_code(ErrorSerializer, code, direction=direction)
            )
        return responses


def only_api_v1(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


def _description() -> str:
    key_rate = settings.API_RATE_LIMITS["key"]
    org_rate = settings.API_RATE_LIMITS["organization"]
    return f"""
The REST API of one LeadTrack organization, for integrations.

## Authentication
Create a key under *Settings → API*, or with
`python manage.py create_api_key --org <slug> --scopes read,write --name <label>`,
and send it as `Authorization: Bearer <key>`. A key belongs to one organization and carries scopes:
`read` (every GET), `write` (creates, updates, deletes, stage moves, bulk upserts), `admin` (everything),
`import` (bulk upserts may set `created_at`, `stage` and the stage dates: a migration from another CRM).
Signed-in people may call the API from the browser with their session and `X-Organization: <slug>`
(or `?org=<slug>`). Another organization's ids answer 404, like ids that do not exist.

## Rate limits
{key_rate} per key (or person) and {org_rate} per organization, in fixed windows. Every response
carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; over a limit the answer is
429 with `Retry-After` (seconds).

## Errors
One shape: `{{"type": "...", "detail": "...", "errors": {{"field": ["message"]}}}}`.
400 bad input (field errors), 401 no or bad key, 403 key or role not allowed, 404 not found,
409 conflict (a duplicate lead, with `existing_id`; a stage moved meanwhile), 412 `If-Match` names
an old version, 422 an `Idempotency-Key` reused with another body, 429 rate limited.

## Writes
`POST` accepts `Idempotency-Key`: a retry with the same key and body returns the first response
(keys are remembered for {settings.API_IDEMPOTENCY_KEY_HOURS} hours).
A lead's reads return an `ETag`; send it as `If-Match` with `PATCH` or a stage move to refuse lost
updates (412). Lists are cursor-paginated (`next`/`previous` links; `page_size` up to
{settings.API_MAX_PAGE_SIZE}), take the same filters as the app's lead list, `ordering`, and
`updated_since` for incremental sync. `POST /api/v1/leads/bulk/` upserts up to
{settings.API_BULK_MAX_ITEMS} leads by `external_id` or `email`.

## Webhooks
Register endpoints under *Settings → API*. Each delivery is a JSON `POST`
`{{"id": "<delivery id>", "event": "lead.created", "created_at": "...", "data": {{...}}}}` with
the headers `X-LeadTrack-Event`, `X-LeadTrack-Delivery` (the same id on every retry and replay:
ignore ids you have processed), `X-LeadTrack-Timestamp` (unix seconds) and
`X-LeadTrack-Signature: v1=<hex>`, where `<hex> = HMAC-SHA256(endpoint secret, "<timestamp>.<raw body>")`.
Verify it in constant time and reject old timestamps. Answer 2xx within
{settings.WEBHOOK_TIMEOUT_SECONDS:g} s, else the delivery is retried with exponential backoff
({settings.WEBHOOK_RETRY_BASE_SECONDS} s doubling up to {settings.WEBHOOK_RETRY_MAX_SECONDS // 60} min,
{settings.WEBHOOK_MAX_ATTEMPTS} attempts: about a day).
An endpoint that has failed for a day is disabled and the organization's admins are e-mailed.
Events: `lead.created`, `lead.updated`, `lead.stage_changed`, `referral.created`,
`referral.status_changed`.
""".strip()


def add_description(result, generator, request, public):
    result["info"]["description"] = _description()
    return result
