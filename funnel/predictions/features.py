"""A lead's features for the predictive score: what was known about it, as named 0/1 or count values.

Every feature is a name → number pair, so that a fitted logistic regression explains each lead by
coefficient x value. Categorical fields become one column per value ("segment=smb" = 1); activity
counts become ``log(1 + count)`` per kind, so that the tenth page visit weighs less than the first.
Nothing here reads the database: the selector hands in plain rows, the importer of a public dataset
can hand in its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leads.models import ActivityKind, ChannelType, Segment
from leads.regions import Region

NONE = "(none)"

SENIORITY_LABELS = {
    "c_level": "C-level / founder",
    "vp": "VP",
    "director": "Director / head",
    "manager": "Manager / lead",
    "individual": "Individual contributor",
    NONE: "No job title",
}
# Checked in this order: "Vice President" is a VP before it is a president.
_SENIORITY_PATTERNS = (
    ("vp", re.compile(r"\b(vp|svp|evp|vice[\s-]+president)\b")),
    (
        "c_level",
        re.compile(r"\b(ceo|cto|cfo|coo|cmo|cio|cro|ciso|chief|founder|co-?founder|owner|president)\b"),
    ),
    ("director", re.compile(r"\b(director|head)\b")),
    ("manager", re.compile(r"\b(manager|lead|supervisor)\b")),
)

# Company size bins (employees): lower bounds, inclusive.
SIZE_BINS = ((1000, "1000+"), (250, "250-999"), (50, "50-249"), (1, "1-49"))

CATEGORICAL_FIELDS = {
    "industry": "Industry",
    "segment": "Segment",
    "region": "Region",
    "channel": "Channel",
    "size": "Company size",
    "seniority": "Seniority",
    "phone": "Phone",
    "website": "Website",
}
_CHOICE_LABELS = {
    "segment": dict(Segment.choices),
    "region": dict(Region.choices),
    "channel": dict(ChannelType.choices),
    "seniority": SENIORITY_LABELS,
}
ACTIVITY_PREFIX = "activity:"


def seniority(job_title: str) -> str:
    """The seniority level a job title reads as ("(none)" when blank)."""
    title = (job_title or "").strip().lower()
    if not title:
        return NONE
    for level, pattern in _SENIORITY_PATTERNS:
        if pattern.search(title):
            return level
    return "individual"


def size_bin(employees: int | None) -> str:
    if employees is None or employees <= 0:
        return NONE
    for lower, label in SIZE_BINS:
        if employees >= lower:
            return label
    return NONE


@dataclass(frozen=True)
class LeadFacts:
    """What the model may know about a lead (at its close for training, now for an open lead)."""

    industry: str = ""
    segment: str = ""
    region: str = ""
    channel: str = ""
    employees: int | None = None
    job_title: str = ""
    has_phone: bool = False
    has_website: bool = False
    activity_counts: Mapping[str, int] | None = None


def lead_features(facts: LeadFacts) -> dict[str, float]:
    """The feature vector of one lead, as {feature name: value}."""
    categorical = {
        "industry": facts.industry or NONE,
        "segment": facts.segment or NONE,
        "region": facts.region or NONE,
        "channel": facts.channel or NONE,
        "size": size_bin(facts.employees),
        "seniority": seniority(facts.job_title),
        "phone": "yes" if facts.has_phone else "no",
        "website": "yes" if facts.has_website else "no",
    }
    features = {f"{field}={value}": 1.0 for field, value in categorical.items()}
    for kind, count in (facts.activity_counts or {}).items():
        if count:
            features[f"{ACTIVITY_PREFIX}{kind}"] = math.log1p(count)
    return features


def facts_from_row(row: Mapping[str, Any]) -> LeadFacts:
    """LeadFacts from a selector row (see selectors.lead_feature_rows)."""
    return LeadFacts(
        industry=row.get("industry") or "",
        segment=row.get("segment") or "",
        region=row.get("region") or "",
        channel=row.get("channel") or "",
        employees=row.get("employees"),
        job_title=row.get("job_title") or "",
        has_phone=bool(row.get("has_phone")),
        has_website=bool(row.get("has_website")),
        activity_counts={kind: int(row.get(f"n_{kind}") or 0) for kind in ActivityKind.values},
    )


def feature_label(name: str, value: float = 1.0) -> str:
    """How a feature reads on the lead page: "Segment: SMB", "Demo x2"."""
    if name.startswith(ACTIVITY_PREFIX):
        kind = name.removeprefix(ACTIVITY_PREFIX)
        label = dict(ActivityKind.choices).get(kind, kind.replace("_", " "))
        count = round(math.expm1(value))
        return f"{label} x{count}"
    field, _, level = name.partition("=")
    title = CATEGORICAL_FIELDS.get(field, field.replace("_", " ").capitalize())
    shown = _CHOICE_LABELS.get(field, {}).get(level, level)
    if level == NONE:
        shown = "unknown"
    return f"{title}: {shown}"
