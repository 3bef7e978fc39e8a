"""Webhook plumbing: the signature scheme, the SSRF guard and the HTTP POST itself.

Signature (documented for receivers in the API docs):

    X-LeadTrack-Timestamp: <unix seconds>
    X-LeadTrack-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-LeadTrack-Delivery:  <delivery id, a UUID; the same on every retry and replay>
    X-LeadTrack-Event:     <event name, e.g. lead.created>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body,
compares in constant time, rejects timestamps older than a few minutes, and
ignores a delivery id it has already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

USER_AGENT = "LeadTrack-Webhooks/1"
MAX_RESPONSE_BYTES = 4096


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(*, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (used by our tests as the receiver)."""
    try:
        expected = sign(secret=secret, timestamp=int(timestamp), body=body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve_target(url: str) -> Target:
    """Check the URL and pick the address to connect to (SSRF guard, docs/reliability.md I8).

    Refuses schemes other than http(s), credentials in the URL, and hosts that are
    or resolve to loopback, private, link-local, multicast or reserved addresses
    (unless settings.WEBHOOK_ALLOW_PRIVATE_TARGETS). The connection then goes to
    the checked address, so a DNS answer cannot change between check and use.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": "Use an http:// or https:// URL."})
    if parts.username or parts.password:
        raise ValidationError(
            {"url": "Credentials in the URL are not allowed; sign with the secret instead."}
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValidationError({"url": "Invalid port."}) from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": "The host name does not resolve."}) from exc
    addresses = [info[4][0] for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and not all(_is_public(a) for a in addresses):
        raise ValidationError({"url": "The host is a private, loopback or link-local address."})
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with SNI and certificate checks against the host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, target: Target, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST once; redirects are not followed (a 3xx is a failure)."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
            target.address, target.host, target.port, timeout
        )
    else:
        conn = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return PostResult(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}")
    except (OSError, http.client.HTTPException) as exc:
        return PostResult(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        conn.close()
