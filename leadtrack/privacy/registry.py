"""The registry of personal-data holders: every app that stores something about a lead's
person declares how to export it and how to erase it.

Contract (docs/privacy.md says the same, with examples)
-------------------------------------------------------
An app puts a ``privacy.py`` module next to its ``models.py``; ``autodiscover()`` (called from
``PrivacyConfig.ready``) imports it, and the module calls ``register(...)`` at import time::

    from leadtrack.privacy.registry import Subject, register

    def _export(subject: Subject) -> dict[str, list[dict]]: ...
    def _erase(subject: Subject) -> dict[str, int]: ...

    register("forms", export=_export, erase=_erase, order=50,
             description="Web-form submissions: the posted fields and the visitor's IP address.")

- ``subject`` is resolved once by the privacy app, inside the organization's tenant context
  and its transaction; a holder reads and writes with the scoped ``objects`` managers only.
  ``subject.lead_ids`` are the subject's leads (live, soft-deleted and merged);
  ``subject.identifiers`` the lower-case strings that name the person (e-mail addresses,
  contact names, phone numbers, current and in the change history); ``subject.email`` the
  address asked about ("" when the leads themselves are the subject, as in retention).
- ``export(subject)`` returns ``{record type: [JSON-serializable dict, ...]}``: every record of
  the subject the holder keeps, with its personal fields. No record type may be left out
  because it is empty; an empty list is the answer "we hold none".
- ``erase(subject)`` removes or anonymises everything it exported and returns
  ``{record type: rows changed}``. It must be idempotent (a second run changes 0 rows), must
  not delete rows that metrics count (anonymise them instead), and must leave no identifier in
  free text or JSON (``scrub_text`` / ``redact_json`` below). It runs inside the one
  transaction of the erasure: raising rolls the whole erasure back.
- ``order``: erasures run in ascending order; the leads holder runs last (100) because the
  others find their rows through the leads' identifiers, which it clears.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from django.utils.module_loading import autodiscover_modules

from leadtrack.tenancy.models import Organization

REDACTED = "[erased]"

# JSON keys that carry a person's data wherever they appear in a payload about the subject.
PERSONAL_KEYS = frozenset(
    {
        "contact_name",
        "email",
        "phone",
        "job_title",
        "notes",
        "external_id",
        "close_reason",
        "subject",
        "body",
        "url",
        "referrer_url",
        "merged_from",
        "rejection_reason",
        "conflict_reason",
    }
)


@dataclass(frozen=True)
class Subject:
    organization: Organization
    email: str
    lead_ids: frozenset[int]
    identifiers: frozenset[str] = field(default_factory=frozenset)

    def names_in(self, text: str | None) -> bool:
        """Whether ``text`` contains one of the subject's identifiers (case-insensitive)."""
        if not text:
            return False
        lowered = text.lower()
        return any(identifier in lowered for identifier in self.identifiers)


Export = Callable[[Subject], dict[str, list[dict[str, Any]]]]
Erase = Callable[[Subject], dict[str, int]]


@dataclass(frozen=True)
class Holder:
    name: str
    export: Export
    erase: Erase
    description: str
    order: int


_holders: dict[str, Holder] = {}


def register(name: str, *, export: Export, erase: Erase, description: str, order: int = 50) -> None:
    """Declare a holder of personal data; re-registering the same name replaces it (reloads)."""
    _holders[name] = Holder(name=name, export=export, erase=erase, description=description, order=order)


def holders() -> list[Holder]:
    return sorted(_holders.values(), key=lambda holder: (holder.order, holder.name))


def autodiscover() -> None:
    """Import every installed app's ``privacy`` module (each registers its holders)."""
    autodiscover_modules("privacy")


def scrub_text(text: str, identifiers: Iterable[str]) -> str:
    """``text`` with every identifier replaced by ``[erased]`` (case-insensitive)."""
    for identifier in sorted(identifiers, key=len, reverse=True):
        if identifier and text:
            text = re.sub(re.escape(identifier), REDACTED, text, flags=re.IGNORECASE)
    return text


def redact_json(value: Any, subject: Subject) -> Any:
    """A copy of a JSON document about the subject: personal keys and any string naming them
    replaced by ``[erased]``; structure, ids and counts kept."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if key in PERSONAL_KEYS and item not in (None, "", [], {})
            else redact_json(item, subject)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item, subject) for item in value]
    if isinstance(value, str) and subject.names_in(value):
        return REDACTED
    return value


def scrub_url(url: str, subject: Subject) -> str:
    """``url`` unchanged unless it names the person (also URL-encoded, as in ``?email=jane%40x``);
    then without its query and fragment, and with identifiers scrubbed from host and path. Site,
    page and referring domain stay, for the web KPIs."""
    if not url or not subject.names_in(unquote_plus(url)):
        return url
    parts = urlsplit(url)
    host, path = (scrub_text(unquote_plus(part), subject.identifiers) for part in (parts.netloc, parts.path))
    return urlunsplit((parts.scheme, host, path, "", ""))
