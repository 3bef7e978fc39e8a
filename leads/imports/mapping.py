"""Column mapping: which lead field each column of an upload fills, and the headers we recognise.

Salesforce Lead/Opportunity exports (Data Loader API names), HubSpot contact exports
(property labels) and our own export's headers are recognised; anything else is left
for the person to map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Targets a column may fill: lead fields, plus first/last name parts joined into the contact name.
TARGET_LABELS: dict[str, str] = {
    "company": "Company",
    "contact_name": "Contact name",
    "first_name": "First name (joined into contact name)",
    "last_name": "Last name (joined into contact name)",
    "email": "E-mail",
    "phone": "Phone",
    "job_title": "Job title",
    "website": "Website",
    "country": "Country",
    "industry": "Industry",
    "employees": "Employees",
    "source": "Source",
    "campaign": "Campaign",
    "owner": "Owner (member's e-mail)",
    "expected_amount": "Expected amount",
    "currency": "Currency",
    "won_amount": "Won amount",
    "value_12m": "12-month value",
    "external_id": "External id (from the other CRM)",
    "notes": "Notes",
    "stage": "Stage (history)",
    "created_at": "Created date (history)",
    "reached_mql_at": "Became MQL date (history)",
    "reached_sql_at": "Became SQL date (history)",
    "reached_opportunity_at": "Became opportunity date (history)",
    "closed_at": "Closed date (history)",
    "close_reason": "Won/lost reason (history)",
}

# For each target, the headers that fill it, best first (compared without case, spaces or punctuation).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("FirstName", "First Name", "Given Name"),
    "last_name": ("LastName", "Last Name", "Surname", "Family Name"),
    "contact_name": ("contact_name", "Contact Name", "Full Name", "Contact"),
    "company": (
        "company",
        "Company",
        "Company Name",
        "Account Name",
        "Organization",
        "Organisation",
        "account",
    ),
    "email": ("email", "Email", "E-mail", "Email Address", "E-mail Address"),
    "phone": ("phone", "Phone", "Phone Number", "MobilePhone", "Mobile Phone Number", "Telephone"),
    "job_title": ("job_title", "Title", "Job Title", "Position"),
    "website": ("website", "Website", "Website URL", "Company Domain Name", "Domain"),
    "country": ("country", "Country", "Country/Region", "BillingCountry", "Country Code", "office_location"),
    "industry": ("industry", "Industry", "sector"),
    "employees": ("employees", "NumberOfEmployees", "Number of Employees", "Employee Count"),
    "source": ("source", "LeadSource", "Lead Source", "Original Source", "Source"),
    "campaign": ("campaign", "Campaign", "Campaign Name", "First Touch Converting Campaign"),
    "owner": ("owner", "Owner Email", "Lead Owner Email", "Owner E-mail"),
    "expected_amount": ("expected_amount", "Amount", "Expected Amount", "Deal Amount"),
    "currency": ("currency", "CurrencyIsoCode", "Currency"),
    "won_amount": ("won_amount", "Won Amount", "close_value", "Recent Deal Amount"),
    "value_12m": ("value_12m", "12-month value", "Annual Contract Value"),
    "external_id": (
        "external_id",
        "Id",
        "Contact ID",
        "Record ID",
        "Lead ID",
        "Prospect ID",
        "opportunity_id",
    ),
    "notes": ("notes", "Description", "Notes", "Message"),
    "stage": ("stage", "Lifecycle Stage", "StageName", "Deal Stage", "deal_stage", "Status"),
    "created_at": ("created_at", "CreatedDate", "Create Date", "Created Date", "Created"),
    "reached_mql_at": ("reached_mql_at", "Became a Marketing Qualified Lead Date"),
    "reached_sql_at": ("reached_sql_at", "Became a Sales Qualified Lead Date", "ConvertedDate"),
    "reached_opportunity_at": ("reached_opportunity_at", "Became an Opportunity Date", "engage_date"),
    "closed_at": ("closed_at", "Became a Customer Date", "CloseDate", "Close Date", "close_date"),
    "close_reason": ("close_reason", "Closed Lost Reason", "Closed Won Reason", "Loss Reason"),
}
# Recognised headers we deliberately do not import, with the reason shown on the mapping screen.
_KNOWN_SKIPPED: dict[str, str] = {
    "OwnerId": "Salesforce user id, not an e-mail: map an owner e-mail column instead.",
    "Name": "Full name: the first and last name columns are used.",
    "IsDeleted": "Salesforce bookkeeping.",
    "CreatedById": "Salesforce user id.",
    "LastModifiedDate": "Not kept: LeadTrack records its own changes.",
}
HISTORY_TARGETS = (
    "stage",
    "created_at",
    "reached_mql_at",
    "reached_sql_at",
    "reached_opportunity_at",
    "closed_at",
)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def suggest_mapping(headers: Sequence[str]) -> dict[int, str]:
    """{column index: target} for the headers we recognise; each target taken at most once."""
    by_key: dict[str, int] = {}
    for index, header in enumerate(headers):
        by_key.setdefault(_key(header), index)
    mapping: dict[int, str] = {}
    for target, synonyms in _SYNONYMS.items():
        for synonym in synonyms:
            index = by_key.get(_key(synonym))
            if index is not None and index not in mapping:
                mapping[index] = target
                break
    targets = set(mapping.values())
    if "name" in by_key and by_key["name"] not in mapping:
        if "stagename" in by_key and "company" not in targets:
            # A Salesforce Opportunity export: its Name is the deal's, the best company label it has.
            mapping[by_key["name"]] = "company"
        elif not targets & {"first_name", "last_name", "contact_name"}:
            # A full-name column is the contact name only when there are no first/last name columns.
            mapping[by_key["name"]] = "contact_name"
    return mapping


def skipped_reason(header: str) -> str:
    for known, reason in _KNOWN_SKIPPED.items():
        if _key(known) == _key(header):
            return reason
    return ""
