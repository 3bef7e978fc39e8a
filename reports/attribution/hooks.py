"""``POST /hooks/email/<endpoint key>``: engagement events an e-mail service posts (docs/email-events.md).

No session and no organization in the path: the key finds the endpoint (and so the
organization) through its lookup policy, the signature proves the sender holds the
endpoint's secret, and the events are then stored inside ``tenant_context``. Answers are
JSON; a bad post gets a 4xx with the reason, never a 500.

    404  unknown key              401  timestamp or signature header missing
    403  signature wrong, or the timestamp outside the 5-minute replay window
    400  not JSON, or a field error per bad field     413  body too large
"""

from __future__ import annotations

import json
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadtrack.api.webhooks import verify
from leadtrack.tenancy.context import tenant_context
from reports.attribution import selectors, services

TIMESTAMP_HEADER = "HTTP_X_LEADTRACK_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_LEADTRACK_SIGNATURE"
REPLAY_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@csrf_exempt
@require_POST
def email_events(request: HttpRequest, endpoint_key: str) -> JsonResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes; send fewer events per post.")
    with transaction.atomic():
        endpoint = selectors.email_endpoint_for_key(key=endpoint_key)
        if endpoint is None:
            return _error(404, "Unknown endpoint.")
        organization, secret = endpoint.organization, endpoint.secret
    timestamp = request.META.get(TIMESTAMP_HEADER, "")
    signature = request.META.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        response = _error(401, "Sign the post: X-LeadTrack-Timestamp and X-LeadTrack-Signature headers.")
        response["WWW-Authenticate"] = 'LeadTrack-HMAC realm="email-events"'
        return response
    body = request.body
    # Constant-time comparison (hmac.compare_digest) of "v1=<hex HMAC-SHA256(secret, ts.body)>".
    if not verify(secret=secret, timestamp=timestamp, body=body, signature=signature):
        return _error(403, "Invalid signature.")
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return _error(403, "Timestamp outside the 5-minute window: sign each post when you send it.")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _error(400, f"The body is not valid JSON: {exc}.")
    except RecursionError:
        return _error(400, "The body is not valid JSON: nested too deeply.")
    now = timezone.now()
    with tenant_context(organization):
        try:
            events = services.email_events_parse(payload=payload, now=now)
        except ValidationError as exc:
            return _error(400, "Invalid events.", errors=exc.message_dict)
        result = services.email_events_record(org=organization, events=events, now=now)
    return JsonResponse(
        {"received": result.received, "stored": result.stored, "duplicates": result.received - result.stored}
    )
