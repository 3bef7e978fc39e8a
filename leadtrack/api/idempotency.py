"""``Idempotency-Key`` on POST (draft-ietf-httpapi-idempotency-key-header).

Same key, same request → the stored response again, and the work done once;
same key, different request → 422. The (organization, key) row is inserted at
the start of the request, inside the request's transaction: a concurrent
duplicate blocks on the unique index until the first request commits, then
reads its stored response. A request that fails with a server error rolls back
and leaves no row, so the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import connection
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from leadtrack.api.errors import Conflict, IdempotencyMismatch
from leadtrack.api.models import IdempotencyRecord
from leadtrack.tenancy.models import Organization

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("ETag", "Location")


class Replay(Exception):
    """Not an error: carries the stored response of an earlier request with the same key."""

    def __init__(self, response: Response):
        super().__init__("idempotent replay")
        self.response = response


@dataclass
class Claim:
    record_id: int


def request_fingerprint(request: Request) -> str:
    raw = request._request.body
    try:
        body = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(part + b"\0")
    return digest.hexdigest()


def claim(*, org: Organization, request: Request) -> Claim | None:
    """Claim the request's key, or raise Replay / IdempotencyMismatch. None without a key."""
    key = request.META.get(HEADER, "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]})
    fingerprint = request_fingerprint(request)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotencyRecord._meta.db_table} "
            "(organization_id, key, request_hash, response_headers, created_at) "
            "VALUES (%s, %s, %s, '{}', now()) ON CONFLICT (organization_id, key) DO NOTHING RETURNING id",
            [org.pk, key, fingerprint],
        )
        row = cursor.fetchone()
    if row is not None:
        return Claim(row[0])
    existing = IdempotencyRecord.objects.get(organization=org, key=key)
    if existing.request_hash != fingerprint:
        raise IdempotencyMismatch()
    if existing.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    response = Response(existing.response_body, status=existing.status_code)
    for name, value in existing.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    raise Replay(response)


def store(*, claim: Claim, response: Response) -> None:
    # PostgreSQL's jsonb cannot hold U+0000, which a 400 may echo back in a field name: store U+FFFD.
    body = json.loads((JSONRenderer().render(response.data) or b"null").replace(b"\\u0000", b"\\ufffd"))
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=claim.record_id).update(
        status_code=response.status_code, response_body=body, response_headers=headers
    )
