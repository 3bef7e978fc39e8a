"""Derived lead fields, one rule each: used by the form, the API, the importer and tasks."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from leads.models import CountryRegion, Lead, LeadSettings, Segment
from leads.regions import default_region_for
from leadtrack import caching
from leadtrack.tenancy.models import Organization

# Free-mail domains say nothing about the company: they never make two leads duplicates.
FREE_MAIL_DOMAINS = frozenset(
    {
        *("gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "msn.com"),
        *("aol.com", "icloud.com", "me.com", "mail.com", "gmx.com", "gmx.de", "web.de", "proton.me"),
        *("protonmail.com", "yandex.ru", "qq.com", "163.com"),
    }
)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def domain_from(*, website: str, email: str) -> str:
    """The company's domain: the website's host, else the e-mail's unless it is free mail."""
    host = ""
    if website:
        candidate = website.strip()
        if "//" not in candidate:
            candidate = "http://" + candidate
        host = (urlsplit(candidate).hostname or "").lower()
    if not host and "@" in (email or ""):
        host = email.rsplit("@", 1)[1].strip().lower()
        if host in FREE_MAIL_DOMAINS:
            host = ""
    return host.removeprefix("www.")


def lead_settings(*, org: Organization) -> LeadSettings:
    settings_row, _ = LeadSettings.objects.get_or_create(organization=org)
    return settings_row


@dataclass(frozen=True)
class DerivationRules:
    """What the derived fields of a lead are computed from: the settings row and the region overrides."""

    settings: LeadSettings
    region_overrides: dict[str, str]


RULES_TTL_SECONDS = 300


def _rules_cache_key(organization_id: int) -> str:
    return f"leads:derivation-rules:{organization_id}"


def derivation_rules(*, org: Organization) -> DerivationRules:
    """Cached: every lead write derives its fields, and these two small tables rarely change
    (receivers.py forgets the entry when they do)."""

    def read() -> DerivationRules:
        overrides = CountryRegion.objects.filter(organization=org).values_list("country", "region")
        return DerivationRules(settings=lead_settings(org=org), region_overrides=dict(overrides))

    return caching.read_through(_rules_cache_key(org.pk), RULES_TTL_SECONDS, read)


def derivation_rules_forget(*, organization_id: int) -> None:
    caching.forget(_rules_cache_key(organization_id))


def region_for(*, org: Organization, country: str, overrides: dict[str, str] | None = None) -> str:
    if not country:
        return ""
    if overrides is None:
        overrides = derivation_rules(org=org).region_overrides
    return overrides.get(country) or default_region_for(country)


def segment_for(*, employees: int | None, rules: LeadSettings) -> str:
    if employees is None:
        return ""
    if employees >= rules.enterprise_min_employees:
        return Segment.ENTERPRISE
    if employees >= rules.mid_market_min_employees:
        return Segment.MID_MARKET
    return Segment.SMB


def apply_derived_fields(*, org: Organization, lead: Lead, rules: LeadSettings | None = None) -> None:
    """Set email (normalized), domain, region and segment from the fields they derive from."""
    derivation = derivation_rules(org=org)  # one cache read for the settings and the overrides
    rules = rules or derivation.settings
    lead.email = normalize_email(lead.email)
    lead.domain = domain_from(website=lead.website, email=lead.email)
    lead.region = region_for(org=org, country=str(lead.country or ""), overrides=derivation.region_overrides)
    lead.segment = segment_for(employees=lead.employees, rules=rules)
    if not lead.currency:
        lead.currency = org.currency
