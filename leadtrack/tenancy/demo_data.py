"""Deterministic raw demo data: Robotix's Q1/Q2 2025 referral funnel and Northwind's small book.

Everything is generated from a fixed seed (``random.Random(seed)``), so every run
produces the same leads, transitions, activities, spend and campaigns. The
plans below fix the *counts* that the quarterly referral report reads (leads,
MQLs, SQLs, opportunities and wins per month; per source, industry, segment,
country and campaign); the generator then draws who is who and when, and
writes rows exactly as the services would (derived fields from ``leads.rules``,
a creation transition per lead, ``reached_*`` equal to the first transition
reaching the rung, ``first_contacted_at`` / ``first_meeting_at`` from the
activities). docs/demo-data.md explains the numbers and how they differ from
the hand-made reference report.

Rows are bulk-inserted inside ``tenant_context`` (a few thousand rows per
organization, run by ``seed_demo`` on every ``make run``); a lead carrying the
dataset's external-id prefix marks the organization as already seeded.
"""

from __future__ import annotations

import calendar
import itertools
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from funnel.models import StageTransition
from funnel.stages import Stage
from leads import rules
from leads.models import (
    MEETING_KINDS,
    OUTBOUND_KINDS,
    Activity,
    ActivityKind,
    Campaign,
    ChannelType,
    CountryRegion,
    Industry,
    Lead,
    Source,
    SpendEntry,
    Via,
)
from leads.regions import Region
from leadtrack.accounts.models import User
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

# The rungs a lead climbs after creation, in order; a plan counts each per month.
RUNGS: tuple[Stage, ...] = (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.WON)
_REACHED_FIELD = {
    Stage.MQL: "reached_mql_at",
    Stage.SQL: "reached_sql_at",
    Stage.OPPORTUNITY: "reached_opportunity_at",
}
# Least time between consecutive moves of one lead (creation→MQL, MQL→SQL, SQL→opportunity, →won).
_MIN_GAP = (timedelta(hours=2), timedelta(hours=20), timedelta(hours=40), timedelta(hours=72))


def dollars(amount: int) -> int:
    """Whole currency units → minor units (cents, pence)."""
    return amount * 100


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    name: str
    channel_type: str
    is_referral: bool
    is_inbound: bool
    created_via: str
    # Paid per customer won through the source (referral bounty), dated the day of the win.
    reward_per_win: int = 0


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    channel_type: str
    start: date
    end: date
    cost: int
    budget: int


@dataclass(frozen=True)
class PeriodicSpend:
    source: str
    spent_on: date
    amount: int
    note: str


@dataclass(frozen=True)
class Slice:
    """Cohort counts of one source / industry / segment in one quarter."""

    leads: int
    mql: int
    sql: int = 0
    won: int = 0


@dataclass(frozen=True)
class CampaignSlice:
    campaign: str
    source: str
    leads: int
    won: int = 0
    # Exact Σ value_12m of the campaign's won leads (minor units); None draws deal values.
    value_12m: int | None = None


@dataclass(frozen=True)
class QuarterPlan:
    """One quarter's cohort: leads created in it and every rung they reach, counted by month.

    Months are of ``year`` in the organization's time zone; a rung reached after
    the quarter (a March lead that becomes an SQL in April) is listed under its
    own month and shows up in the next quarter's flow volumes.
    """

    label: str
    year: int
    created: dict[int, int]
    reached: dict[Stage, dict[int, int]]
    sources: dict[str, Slice]
    industries: dict[str, Slice]
    segments: dict[str, Slice]
    countries: dict[str, int]
    campaigns: tuple[CampaignSlice, ...]


@dataclass(frozen=True)
class DemoDataset:
    slug: str
    seed: int
    external_id_prefix: str
    owners: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    campaigns: tuple[CampaignSpec, ...]
    region_overrides: dict[str, str]
    periodic_spend: tuple[PeriodicSpend, ...]
    quarters: tuple[QuarterPlan, ...]
    # Nothing happens after this local date: a report as of it equals one computed later.
    last_day: date
    deal_size: tuple[int, int]
    company_prefixes: tuple[str, ...]
    company_cores: dict[str, tuple[str, ...]]


_ROBOTIX_SOURCES = (
    SourceSpec(
        "Partner Network", ChannelType.PARTNER_REFERRAL, True, True, Via.PORTAL, reward_per_win=dollars(380)
    ),
    SourceSpec(
        "Customer Referrals", ChannelType.CUSTOMER_REFERRAL, True, True, Via.FORM, reward_per_win=dollars(220)
    ),
    # Event introductions by partners and customers at trade shows: Robotix counts them as referrals.
    SourceSpec("Industry Events", ChannelType.EVENT, True, True, Via.IMPORT),
    SourceSpec(
        "Employee Referrals", ChannelType.EMPLOYEE_REFERRAL, True, True, Via.UI, reward_per_win=dollars(180)
    ),
)

_Q1 = (date(2025, 1, 1), date(2025, 3, 31))
_Q2 = (date(2025, 4, 1), date(2025, 6, 30))

_ROBOTIX_CAMPAIGNS = (
    CampaignSpec(
        "Partner Certification Program", ChannelType.PARTNER_REFERRAL, *_Q2, dollars(48_000), dollars(50_000)
    ),
    CampaignSpec(
        "Customer Advocacy Program", ChannelType.CUSTOMER_REFERRAL, *_Q2, dollars(30_000), dollars(30_000)
    ),
    CampaignSpec("Industry Summit Sponsorship", ChannelType.EVENT, *_Q2, dollars(25_000), dollars(25_000)),
    CampaignSpec(
        "Partner Webinar Series", ChannelType.PARTNER_REFERRAL, *_Q2, dollars(6_000), dollars(8_000)
    ),
    CampaignSpec(
        "Referral Rewards Refresh", ChannelType.CUSTOMER_REFERRAL, *_Q2, dollars(3_500), dollars(5_000)
    ),
    CampaignSpec("Regional Robotics Meetups", ChannelType.EVENT, *_Q2, dollars(14_000), dollars(15_000)),
    CampaignSpec(
        "Employee Referral Bonus Boost", ChannelType.EMPLOYEE_REFERRAL, *_Q2, dollars(2_000), dollars(2_000)
    ),
    CampaignSpec(
        "Winter Partner Webinar Series", ChannelType.PARTNER_REFERRAL, *_Q1, dollars(7_500), dollars(8_000)
    ),
    CampaignSpec(
        "Customer Referral Kickoff", ChannelType.CUSTOMER_REFERRAL, *_Q1, dollars(4_000), dollars(5_000)
    ),
    CampaignSpec(
        "ProMat 2025 Booth",
        ChannelType.EVENT,
        date(2025, 3, 1),
        date(2025, 3, 31),
        dollars(18_000),
        dollars(20_000),
    ),
)

# Robotix reports three sales regions; Latin American and Middle Eastern/African accounts are "Other".
_ROBOTIX_OTHER_REGION = {country: Region.OTHER for country in ("MX", "BR", "AE", "IL", "ZA")}

ROBOTIX_Q2_2025 = QuarterPlan(
    label="2025Q2",
    year=2025,
    created={4: 245, 5: 312, 6: 378},
    # Flow volumes of the reference: April 86/22/8, May 104/28/11, June 142/35/14. Six SQLs
    # (April 4, May 2) and three opportunities (April 2, May 1) come from Q1 leads (below).
    reached={
        Stage.MQL: {4: 86, 5: 104, 6: 142},
        Stage.SQL: {4: 18, 5: 26, 6: 35},
        Stage.OPPORTUNITY: {4: 6, 5: 10, 6: 14},
        Stage.WON: {4: 1, 5: 3, 6: 5},
    },
    # (leads, MQLs, SQLs, won): the MQL and SQL counts are the integers closest to the
    # reference's source and industry rates that add up to the quarter's 332 MQLs and 79 SQLs.
    sources={
        "Partner Network": Slice(486, 187, 48, 4),
        "Customer Referrals": Slice(245, 84, 19, 2),
        "Industry Events": Slice(156, 45, 8, 2),
        "Employee Referrals": Slice(48, 16, 4, 1),
    },
    industries={
        "Manufacturing": Slice(412, 164, 44),
        "Automotive": Slice(186, 62, 14),
        "Electronics": Slice(156, 55, 13),
        "Logistics": Slice(98, 29, 5),
        # The report's "Other" row: 83 leads, 22 MQLs, 3 SQLs.
        "Aerospace": Slice(31, 9, 1),
        "Food & Beverage": Slice(28, 7, 1),
        "Medical Devices": Slice(24, 6, 1),
    },
    # Enterprise Lead→MQL 41.9 % vs SMB 31.8 %: "Enterprise converts 32 % better than SMB".
    segments={
        "enterprise": Slice(234, 98),
        "mid_market": Slice(374, 130),
        "smb": Slice(327, 104),
    },
    countries={
        **{"US": 431, "CA": 55},
        **{"DE": 68, "GB": 52, "FR": 31, "IT": 26, "NL": 20, "SE": 16, "PL": 14, "ES": 10, "CH": 8},
        **{"JP": 46, "CN": 34, "KR": 26, "IN": 20, "AU": 14, "SG": 9, "TW": 7},
        **{"MX": 18, "BR": 12, "AE": 8, "IL": 6, "ZA": 4},
    },
    campaigns=(
        # ROI on 12-month value: (199,200 - 48,000) / 48,000 = 315 %.
        CampaignSlice("Partner Certification Program", "Partner Network", 186, 4, dollars(199_200)),
        CampaignSlice("Partner Webinar Series", "Partner Network", 40),
        # (114,000 - 30,000) / 30,000 = 280 %.
        CampaignSlice("Customer Advocacy Program", "Customer Referrals", 142, 2, dollars(114_000)),
        CampaignSlice("Referral Rewards Refresh", "Customer Referrals", 30),
        # (80,000 - 25,000) / 25,000 = 220 %.
        CampaignSlice("Industry Summit Sponsorship", "Industry Events", 98, 2, dollars(80_000)),
        CampaignSlice("Regional Robotics Meetups", "Industry Events", 28),
        CampaignSlice("Employee Referral Bonus Boost", "Employee Referrals", 18),
    ),
)

ROBOTIX_Q1_2025 = QuarterPlan(
    label="2025Q1",
    year=2025,
    created={1: 221, 2: 237, 3: 278},
    reached={
        Stage.MQL: {1: 66, 2: 78, 3: 99},
        Stage.SQL: {1: 10, 2: 15, 3: 25, 4: 4, 5: 2},
        Stage.OPPORTUNITY: {1: 3, 2: 6, 3: 9, 4: 2, 5: 1},
        Stage.WON: {2: 2, 3: 4},
    },
    sources={
        "Partner Network": Slice(383, 138, 34, 3),
        "Customer Referrals": Slice(190, 61, 12, 1),
        "Industry Events": Slice(121, 29, 6, 1),
        "Employee Referrals": Slice(42, 15, 4, 1),
    },
    industries={
        "Manufacturing": Slice(318, 118, 30),
        "Automotive": Slice(150, 45, 9),
        "Electronics": Slice(120, 38, 8),
        "Logistics": Slice(80, 21, 4),
        "Aerospace": Slice(25, 8, 2),
        "Food & Beverage": Slice(23, 7, 2),
        "Medical Devices": Slice(20, 6, 1),
    },
    segments={
        "enterprise": Slice(178, 70),
        "mid_market": Slice(295, 98),
        "smb": Slice(263, 75),
    },
    countries={
        **{"US": 350, "CA": 42},
        **{"DE": 52, "GB": 40, "FR": 24, "IT": 20, "NL": 16, "SE": 12, "PL": 10, "ES": 7, "CH": 5},
        **{"JP": 36, "CN": 26, "KR": 20, "IN": 16, "AU": 11, "SG": 6, "TW": 5},
        **{"MX": 14, "BR": 10, "AE": 6, "IL": 5, "ZA": 3},
    },
    campaigns=(
        CampaignSlice("Winter Partner Webinar Series", "Partner Network", 95, 2),
        CampaignSlice("Customer Referral Kickoff", "Customer Referrals", 60, 1),
        CampaignSlice("ProMat 2025 Booth", "Industry Events", 70, 1),
    ),
)

ROBOTIX = DemoDataset(
    slug="robotix",
    seed=20250630,
    external_id_prefix="RBX",
    owners=("rep@robotix.example", "rep2@robotix.example"),
    sources=_ROBOTIX_SOURCES,
    campaigns=_ROBOTIX_CAMPAIGNS,
    region_overrides=_ROBOTIX_OTHER_REGION,
    # Event lead-list fees: $450 per customer won through events in both quarters.
    periodic_spend=(
        *(
            PeriodicSpend("Industry Events", date(2025, month, 1), dollars(150), "Event lead-list fee")
            for month in (1, 2, 3)
        ),
        *(
            PeriodicSpend("Industry Events", date(2025, month, 1), dollars(300), "Event lead-list fee")
            for month in (4, 5, 6)
        ),
    ),
    quarters=(ROBOTIX_Q1_2025, ROBOTIX_Q2_2025),
    last_day=date(2025, 6, 30),
    deal_size=(dollars(20_000), dollars(90_000)),
    company_prefixes=(
        *("Apex", "Vector", "Summit", "Ironclad", "Keystone", "Northstar", "Precision", "Titan"),
        *("Meridian", "Cobalt", "Granite", "Harbor", "Pioneer", "Quantum", "Redwood", "Sterling"),
        *("Trident", "Unity", "Vanguard", "Westfield", "Atlas", "Beacon", "Crescent", "Delta"),
        *("Evergreen", "Falcon", "Horizon", "Lakeshore", "Monarch", "Nova", "Orion", "Pinnacle"),
        *("Riverbend", "Silverline", "Tristar", "Zenith", "Allied", "Bluewater", "Cardinal", "Frontier"),
    ),
    company_cores={
        "Manufacturing": (
            *("Fabrication", "Machining", "Metalworks", "Plastics", "Components", "Assembly"),
            *("Tooling", "Castings", "Industrial", "Forge"),
        ),
        "Automotive": ("Auto Parts", "Motors", "Drivetrain", "Automotive", "Chassis Systems", "Mobility"),
        "Electronics": ("Electronics", "Circuits", "Semiconductor", "Sensors", "Devices", "Photonics"),
        "Logistics": ("Logistics", "Freight", "Distribution", "Warehousing", "Supply Chain"),
        "Aerospace": ("Aerospace", "Aviation Systems", "Aerostructures"),
        "Food & Beverage": ("Foods", "Packaging", "Beverages", "Bakeries"),
        "Medical Devices": ("Medical", "Surgical Devices", "Diagnostics", "Orthopedics"),
    },
)

_NW_Q1 = (date(2025, 1, 1), date(2025, 3, 31))
_NW_Q2 = (date(2025, 4, 1), date(2025, 6, 30))

NORTHWIND = DemoDataset(
    slug="northwind",
    seed=20250401,
    external_id_prefix="NWD",
    owners=("rep@northwind.example", "consultant@example.com"),
    sources=(
        SourceSpec(
            "Distributor Network",
            ChannelType.PARTNER_REFERRAL,
            True,
            True,
            Via.PORTAL,
            reward_per_win=dollars(250),
        ),
        SourceSpec(
            "Customer Introductions",
            ChannelType.CUSTOMER_REFERRAL,
            True,
            True,
            Via.FORM,
            reward_per_win=dollars(150),
        ),
        # Northwind does not count trade-fair leads as referrals.
        SourceSpec("Trade Fair Leads", ChannelType.EVENT, False, True, Via.IMPORT),
        SourceSpec("Website Enquiries", ChannelType.WEB_FORM, False, True, Via.FORM),
    ),
    campaigns=(
        CampaignSpec(
            "Harrogate Hospitality Fair",
            ChannelType.EVENT,
            date(2025, 3, 1),
            date(2025, 3, 31),
            dollars(3_000),
            dollars(3_000),
        ),
        CampaignSpec(
            "Distributor Incentive Scheme",
            ChannelType.PARTNER_REFERRAL,
            *_NW_Q2,
            dollars(5_000),
            dollars(6_000),
        ),
        CampaignSpec("Summer Trade Fair 2025", ChannelType.EVENT, *_NW_Q2, dollars(4_000), dollars(4_000)),
    ),
    region_overrides={},
    periodic_spend=(
        *(
            PeriodicSpend("Trade Fair Leads", date(2025, month, 1), dollars(400), "Stand and lead scanner")
            for month in range(1, 7)
        ),
        *(
            PeriodicSpend("Website Enquiries", date(2025, month, 1), dollars(200), "Search advertising")
            for month in range(1, 7)
        ),
    ),
    quarters=(
        QuarterPlan(
            label="2025Q1",
            year=2025,
            created={1: 40, 2: 45, 3: 50},
            reached={
                Stage.MQL: {1: 12, 2: 14, 3: 16},
                Stage.SQL: {1: 3, 2: 4, 3: 5},
                Stage.OPPORTUNITY: {2: 2, 3: 3},
                Stage.WON: {3: 2},
            },
            sources={
                "Distributor Network": Slice(50, 17, 5, 1),
                "Customer Introductions": Slice(30, 10, 3, 1),
                "Trade Fair Leads": Slice(25, 7, 2),
                "Website Enquiries": Slice(30, 8, 2),
            },
            industries={
                "Retail": Slice(50, 16, 5),
                "Hospitality": Slice(35, 11, 3),
                "Food Service": Slice(30, 10, 3),
                "Wholesale": Slice(20, 5, 1),
            },
            segments={"enterprise": Slice(20, 8), "mid_market": Slice(55, 18), "smb": Slice(60, 16)},
            countries={"GB": 95, "IE": 15, "NL": 10, "FR": 8, "DE": 7},
            campaigns=(CampaignSlice("Harrogate Hospitality Fair", "Trade Fair Leads", 20),),
        ),
        QuarterPlan(
            label="2025Q2",
            year=2025,
            created={4: 50, 5: 55, 6: 60},
            reached={
                Stage.MQL: {4: 15, 5: 18, 6: 20},
                Stage.SQL: {4: 4, 5: 5, 6: 6},
                Stage.OPPORTUNITY: {5: 3, 6: 3},
                Stage.WON: {6: 2},
            },
            sources={
                "Distributor Network": Slice(60, 20, 6, 1),
                "Customer Introductions": Slice(35, 12, 4, 1),
                "Trade Fair Leads": Slice(35, 10, 2),
                "Website Enquiries": Slice(35, 11, 3),
            },
            industries={
                "Retail": Slice(60, 20, 6),
                "Hospitality": Slice(45, 14, 4),
                "Food Service": Slice(35, 12, 3),
                "Wholesale": Slice(25, 7, 2),
            },
            segments={"enterprise": Slice(25, 10), "mid_market": Slice(65, 22), "smb": Slice(75, 21)},
            countries={"GB": 115, "IE": 18, "NL": 12, "FR": 10, "DE": 10},
            campaigns=(
                CampaignSlice("Distributor Incentive Scheme", "Distributor Network", 30, 1),
                CampaignSlice("Summer Trade Fair 2025", "Trade Fair Leads", 20),
            ),
        ),
    ),
    last_day=date(2025, 6, 30),
    deal_size=(dollars(3_000), dollars(20_000)),
    company_prefixes=(
        *("Thames", "Pennine", "Cotswold", "Harbour", "Mersey", "Severn", "Chiltern", "Solent"),
        *("Wessex", "Avon", "Tyne", "Brecon", "Lomond", "Kestrel", "Heather", "Oakham"),
    ),
    company_cores={
        "Retail": ("Retail", "Stores", "Outfitters", "Home Goods", "Pantry"),
        "Hospitality": ("Hotels", "Inns", "Hospitality", "Lodges"),
        "Food Service": ("Catering", "Kitchens", "Food Service", "Canteens"),
        "Wholesale": ("Wholesale", "Trading", "Supplies", "Cash & Carry"),
    },
)

DEMO_DATASETS = (ROBOTIX, NORTHWIND)

# Per-country company suffix and phone prefix. Domains are under .example (RFC 2606): never a real company.
_COUNTRY_STYLE: dict[str, tuple[str, str]] = {
    "US": ("Inc.", "+1"),
    "CA": ("Ltd.", "+1"),
    "DE": ("GmbH", "+49"),
    "GB": ("Ltd", "+44"),
    "FR": ("SAS", "+33"),
    "IT": ("S.p.A.", "+39"),
    "NL": ("B.V.", "+31"),
    "SE": ("AB", "+46"),
    "PL": ("Sp. z o.o.", "+48"),
    "ES": ("S.L.", "+34"),
    "CH": ("AG", "+41"),
    "IE": ("Ltd", "+353"),
    "JP": ("K.K.", "+81"),
    "CN": ("Co., Ltd.", "+86"),
    "KR": ("Co., Ltd.", "+82"),
    "IN": ("Pvt. Ltd.", "+91"),
    "AU": ("Pty Ltd", "+61"),
    "SG": ("Pte. Ltd.", "+65"),
    "TW": ("Co., Ltd.", "+886"),
    "MX": ("S.A. de C.V.", "+52"),
    "BR": ("Ltda.", "+55"),
    "AE": ("LLC", "+971"),
    "IL": ("Ltd.", "+972"),
    "ZA": ("(Pty) Ltd", "+27"),
}
_COMPANY_EXTRAS = (
    "",
    "Group",
    "Industries",
    "Works",
    "Solutions",
    "International",
    "Technologies",
    "Systems",
)
_FIRST_NAMES = (
    *("James", "Maria", "Wei", "Aisha", "Lukas", "Sofia", "Hiroshi", "Priya", "Daniel", "Elena"),
    *("Mateo", "Chloe", "Arjun", "Hannah", "Kenji", "Olivia", "Jonas", "Fatima", "Lars", "Isabel"),
    *("Noah", "Mei", "Tomasz", "Grace", "Omar", "Emma", "Ravi", "Lea", "Carlos", "Yuki"),
    *("Samuel", "Nina", "Ethan", "Zara", "Felix", "Ana", "Marco", "Julia", "Oscar", "Ines"),
)
_LAST_NAMES = (
    *("Smith", "Garcia", "Chen", "Khan", "Muller", "Rossi", "Tanaka", "Patel", "Johnson", "Novak"),
    *("Lopez", "Martin", "Sharma", "Weber", "Sato", "Brown", "Jensen", "Haddad", "Nilsson", "Silva"),
    *("Taylor", "Wang", "Kowalski", "Evans", "Ali", "Dubois", "Iyer", "Becker", "Romero", "Kim"),
    *("Anderson", "Fischer", "Walker", "Costa", "Wagner", "Moreau", "Park", "Hughes", "Berg", "Lee"),
)
_JOB_TITLES = (
    *("Plant Manager", "VP Operations", "Director of Manufacturing", "Automation Engineer"),
    *("Head of Procurement", "Operations Manager", "CTO", "Production Engineer", "COO"),
    *("Supply Chain Director", "Engineering Manager", "Facilities Manager"),
)
_DISQUALIFY_REASONS = (
    "No budget this year",
    "Not a fit: volumes too small for automation",
    "Unresponsive after five touches",
    "Student or research inquiry",
    "Already under contract with a competitor",
)
_LOST_REASONS = ("Lost to a competitor", "Budget frozen", "Project postponed", "Chose in-house integration")


# --------------------------------------------------------------------------------------------
# Planning: who reaches which rung in which month, and who is who
# --------------------------------------------------------------------------------------------


@dataclass
class _PlannedLead:
    external_id: str
    # Month of creation, then of each rung reached (MQL, SQL, opportunity, won), non-decreasing.
    months: list[int]
    source: str = ""
    industry: str = ""
    segment: str = ""
    country: str = ""
    campaign: str = ""
    value_12m: int | None = None
    times: list[datetime] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return len(self.months) - 1


def _expand(counts: dict[int, int]) -> list[int]:
    return [month for month in sorted(counts) for _ in range(counts[month])]


def _climb(rng: random.Random, leads: list[_PlannedLead], reached: dict[int, int]) -> None:
    """Give ``sum(reached)`` of ``leads`` their next rung, in the planned months.

    Months are served in order; each picks a lead whose last event is no later,
    preferring recent ones (a lead rarely waits two months for its next step).
    """
    waiting = list(leads)
    for month in _expand(reached):
        eligible = [lead for lead in waiting if lead.months[-1] <= month]
        if not eligible:
            raise ValueError(f"Plan infeasible: nothing can reach a rung in month {month}.")
        weights = [0.45 ** (month - lead.months[-1]) for lead in eligible]
        chosen = rng.choices(eligible, weights=weights)[0]
        chosen.months.append(month)
        waiting.remove(chosen)


def _deal(rng: random.Random, leads: list[_PlannedLead], counts: dict[str, int], attribute: str) -> None:
    labels = [label for label, count in counts.items() for _ in range(count)]
    if len(labels) != len(leads):
        raise ValueError(f"Plan inconsistent: {len(labels)} {attribute} labels for {len(leads)} leads.")
    rng.shuffle(labels)
    for lead, label in zip(leads, labels, strict=True):
        setattr(lead, attribute, label)


def _split_value(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` minor units split into ``parts`` deal values in whole hundreds, summing exactly."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(parts)]
    values = [round(total * weight / sum(weights), -4) for weight in weights[:-1]]
    return [*values, total - sum(values)]


def _plan_quarter(rng: random.Random, plan: QuarterPlan, prefix: str) -> list[_PlannedLead]:
    leads = [
        _PlannedLead(f"{prefix}-{plan.label}-{number:04d}", [month])
        for number, month in enumerate(_expand(plan.created), start=1)
    ]
    climbing = leads
    for rung in RUNGS:
        _climb(rng, climbing, plan.reached.get(rung, {}))
        climbing = [lead for lead in climbing if lead.depth == RUNGS.index(rung) + 1]
    rng.shuffle(leads)

    by_depth = {depth: [lead for lead in leads if lead.depth == depth] for depth in range(5)}
    qualified = [lead for lead in leads if lead.depth >= 1]
    sql_open_or_lost = by_depth[2] + by_depth[3]
    sql_any = sql_open_or_lost + by_depth[4]

    sources = plan.sources
    _deal(rng, by_depth[0], {name: s.leads - s.mql for name, s in sources.items()}, "source")
    _deal(rng, by_depth[1], {name: s.mql - s.sql for name, s in sources.items()}, "source")
    _deal(rng, sql_open_or_lost, {name: s.sql - s.won for name, s in sources.items()}, "source")
    _deal(rng, by_depth[4], {name: s.won for name, s in sources.items()}, "source")

    industries = plan.industries
    _deal(rng, by_depth[0], {name: s.leads - s.mql for name, s in industries.items()}, "industry")
    _deal(rng, by_depth[1], {name: s.mql - s.sql for name, s in industries.items()}, "industry")
    _deal(rng, sql_any, {name: s.sql for name, s in industries.items()}, "industry")

    _deal(rng, by_depth[0], {name: s.leads - s.mql for name, s in plan.segments.items()}, "segment")
    _deal(rng, qualified, {name: s.mql for name, s in plan.segments.items()}, "segment")

    _deal(rng, leads, plan.countries, "country")

    for source in sources:
        won = [lead for lead in by_depth[4] if lead.source == source]
        others = [lead for lead in leads if lead.source == source and lead.depth < 4]
        slices = [campaign for campaign in plan.campaigns if campaign.source == source]
        won_labels = {c.campaign: c.won for c in slices}
        other_labels = {c.campaign: c.leads - c.won for c in slices}
        won_labels[""] = len(won) - sum(won_labels.values())
        other_labels[""] = len(others) - sum(other_labels.values())
        _deal(rng, won, won_labels, "campaign")
        _deal(rng, others, other_labels, "campaign")
        for campaign in slices:
            if campaign.value_12m is not None:
                campaign_won = [lead for lead in won if lead.campaign == campaign.campaign]
                for lead, value in zip(
                    campaign_won, _split_value(rng, campaign.value_12m, len(campaign_won)), strict=True
                ):
                    lead.value_12m = value
    return leads


# --------------------------------------------------------------------------------------------
# Time: realistic local moments
# --------------------------------------------------------------------------------------------


def _random_moment(rng: random.Random, year: int, month: int, tz: ZoneInfo, *, off_hours: float) -> datetime:
    """A moment in the month: mostly weekday office hours, ``off_hours`` of the time evenings/weekends."""
    days = calendar.monthrange(year, month)[1]
    outside = rng.random() < off_hours
    while True:
        day = date(year, month, rng.randint(1, days))
        if (day.weekday() >= 5) == outside or (outside and rng.random() < 0.6):
            break
    hour = (
        rng.choice((7, 18, 19, 20, 21))
        if outside
        else rng.choice((8, 9, 9, 10, 10, 11, 11, 13, 14, 14, 15, 16, 17))
    )
    return datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59), tzinfo=tz)


def _office_hours_after(rng: random.Random, moment: datetime, delay: timedelta) -> datetime:
    """``delay`` after ``moment``, moved to the next weekday's office hours when it lands outside them."""
    candidate = moment + delay
    local = candidate.astimezone(moment.tzinfo)
    while local.weekday() >= 5 or not 8 <= local.hour < 18:
        next_day = local.date() + timedelta(days=0 if local.hour < 8 else 1)
        local = datetime(
            next_day.year,
            next_day.month,
            next_day.day,
            rng.randint(8, 11),
            rng.randint(0, 59),
            tzinfo=moment.tzinfo,
        )
    return local


def _timeline(
    rng: random.Random, year: int, months: list[int], tz: ZoneInfo, gaps: list[timedelta]
) -> list[datetime]:
    """One moment per month entry, in order, each at least its gap after the previous one."""
    for attempt in range(400):
        relax = 1 if attempt < 200 else 0
        moments = sorted(
            _random_moment(rng, year, month, tz, off_hours=0.12 if index == 0 else 0.03)
            for index, month in enumerate(months)
        )
        if all(
            later - earlier >= gap * relax + timedelta(minutes=10)
            for earlier, later, gap in zip(moments, moments[1:], gaps, strict=False)
        ):
            return moments
    raise ValueError(f"No timeline fits months {months}.")


# --------------------------------------------------------------------------------------------
# Writing rows
# --------------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _employees_for(rng: random.Random, segment: str) -> int:
    low, high = {"enterprise": (1000, 25000), "mid_market": (100, 999), "smb": (8, 99)}[segment]
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


@dataclass
class _Catalog:
    industries: dict[str, Industry]
    sources: dict[str, Source]
    campaigns: dict[str, Campaign]


def _catalog(*, org: Organization, dataset: DemoDataset) -> _Catalog:
    """The organization's region overrides, industries, sources and campaigns, created when missing."""
    for country, region in dataset.region_overrides.items():
        CountryRegion.objects.get_or_create(organization=org, country=country, defaults={"region": region})
    industries: dict[str, Industry] = {}
    for quarter in dataset.quarters:
        for name in quarter.industries:
            if name not in industries:
                industries[name] = Industry.objects.filter(
                    name__iexact=name
                ).first() or Industry.objects.create(organization=org, name=name)
    sources = {
        spec.name: Source.objects.filter(name__iexact=spec.name).first()
        or Source.objects.create(
            organization=org,
            name=spec.name,
            channel_type=spec.channel_type,
            is_referral=spec.is_referral,
            is_inbound=spec.is_inbound,
        )
        for spec in dataset.sources
    }
    # No campaign.source: a campaign's cost is the campaign's spend and never part of a source's CAC.
    campaigns = {
        spec.name: Campaign.objects.filter(name__iexact=spec.name).first()
        or Campaign.objects.create(
            organization=org,
            name=spec.name,
            channel_type=spec.channel_type,
            start_date=spec.start,
            end_date=spec.end,
            cost=spec.cost,
            budget=spec.budget,
        )
        for spec in dataset.campaigns
    }
    return _Catalog(industries, sources, campaigns)


class _Writer:
    """Turns planned leads into unsaved rows, as the lead, stage and activity services would write them."""

    def __init__(self, *, rng: random.Random, org: Organization, dataset: DemoDataset, owners: list[User]):
        self.rng = rng
        self.org = org
        self.tz = org.tzinfo
        self.dataset = dataset
        self.owners = owners
        self.catalog = _catalog(org=org, dataset=dataset)
        self.lead_rules = rules.lead_settings(org=org)
        self.sources = {spec.name: spec for spec in dataset.sources}
        last = dataset.last_day
        self.end_of_data = datetime(last.year, last.month, last.day, 18, 0, tzinfo=self.tz)
        self.used_names: set[str] = set()
        self.regions: dict[str, str] = {}
        self.leads: list[Lead] = []
        self.transitions: list[StageTransition] = []
        self.activities: list[Activity] = []
        self.rewards: list[SpendEntry] = []

    def derive(self, lead: Lead) -> None:
        """rules.apply_derived_fields, with each country's region looked up once instead of per lead."""
        lead.email = rules.normalize_email(lead.email)
        lead.domain = rules.domain_from(website=lead.website, email=lead.email)
        country = str(lead.country)
        if country not in self.regions:
            self.regions[country] = rules.region_for(org=self.org, country=country)
        lead.region = self.regions[country]
        lead.segment = rules.segment_for(employees=lead.employees, rules=self.lead_rules)
        if not lead.currency:
            lead.currency = self.org.currency

    def company(self, industry: str, country: str) -> tuple[str, str]:
        """A company name not used before in this organization, and its web domain."""
        suffix, _ = _COUNTRY_STYLE[country]
        while True:
            parts = (
                self.rng.choice(self.dataset.company_prefixes),
                self.rng.choice(self.dataset.company_cores[industry]),
                self.rng.choice(_COMPANY_EXTRAS),
            )
            name = " ".join(part for part in parts if part)
            if _slug(name) not in self.used_names:
                self.used_names.add(_slug(name))
                return f"{name} {suffix}", f"{_slug(name)}.example"

    def add(self, plan: _PlannedLead, year: int) -> None:
        rng = self.rng
        source_spec = self.sources[plan.source]
        owner = rng.choice(self.owners)
        company, domain = self.company(plan.industry, plan.country)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)

        # Skipped rungs: an SQL straight from a lead (MQL skipped), a win straight from SQL.
        skip_mql = plan.depth >= 2 and plan.months[1] == plan.months[2] and rng.random() < 0.12
        skip_opportunity = plan.depth == 4 and plan.months[3] == plan.months[4] and rng.random() < 0.25
        moves = [0, *range(1, plan.depth + 1)]  # 0 = creation, then rung numbers (1 = MQL … 4 = won)
        if skip_mql:
            moves.remove(1)
        if skip_opportunity:
            moves.remove(3)
        gaps = [sum(_MIN_GAP[a:b], timedelta()) for a, b in itertools.pairwise(moves)]
        moments = _timeline(rng, year, [plan.months[move] for move in moves], self.tz, gaps)
        at_move = dict(zip(moves, moments, strict=True))
        created_at = at_move[0]
        # A skipped rung counts as reached at the time of the jump.
        reached = {rung: at_move[min(m for m in moves if m >= rung)] for rung in range(1, plan.depth + 1)}

        lead = Lead(
            organization=self.org,
            company=company,
            contact_name=f"{first} {last}",
            email=f"{first}.{last}@{domain}",
            phone=f"{_COUNTRY_STYLE[plan.country][1]} {rng.randint(200, 989)} 555 {rng.randint(1000, 9999)}",
            job_title=rng.choice(_JOB_TITLES),
            website=f"https://www.{domain}",
            country=plan.country,
            industry=self.catalog.industries[plan.industry],
            employees=_employees_for(rng, plan.segment),
            source=self.catalog.sources[plan.source],
            campaign=self.catalog.campaigns[plan.campaign] if plan.campaign else None,
            owner=owner,
            external_id=plan.external_id,
            score=rng.randint(55, 95) if plan.depth >= 1 else rng.randint(5, 45),
            created_at=created_at,
        )
        self.derive(lead)
        if lead.segment != plan.segment:
            raise ValueError(f"{plan.external_id}: derived segment {lead.segment} is not {plan.segment}.")

        transitions = [
            StageTransition(
                organization=self.org,
                lead=lead,
                from_stage="",
                to_stage=Stage.LEAD,
                at=created_at,
                by=owner if source_spec.created_via == Via.UI else None,
                via=source_spec.created_via,
            )
        ]
        stage = Stage.LEAD
        for move in moves[1:]:
            to_stage = RUNGS[move - 1]
            by_scoring = to_stage == Stage.MQL and rng.random() < 0.7
            transitions.append(
                StageTransition(
                    organization=self.org,
                    lead=lead,
                    from_stage=stage,
                    to_stage=to_stage,
                    at=at_move[move],
                    by=None if by_scoring else owner,
                    via=Via.SYSTEM if by_scoring else Via.UI,
                    reason="Score reached the MQL threshold" if by_scoring else "",
                )
            )
            stage = to_stage
        for rung, moment in reached.items():
            if RUNGS[rung - 1] in _REACHED_FIELD:
                setattr(lead, _REACHED_FIELD[RUNGS[rung - 1]], moment)

        low, high = self.dataset.deal_size
        if plan.depth >= 3:
            lead.expected_amount = round(rng.uniform(low, high), -4)
        if plan.depth == 4:
            lead.value_12m = plan.value_12m or round(rng.uniform(low, high), -4)
            # Multi-year contracts: the deal is worth the first year or more.
            lead.won_amount = lead.value_12m + round(lead.value_12m * rng.choice((0, 0, 0.5, 1, 2)), -4)
            lead.expected_amount = lead.expected_amount or lead.won_amount
            lead.closed_at = reached[4]
            if source_spec.reward_per_win:
                self.rewards.append(
                    SpendEntry(
                        organization=self.org,
                        spent_on=lead.closed_at.astimezone(self.tz).date(),
                        amount=source_spec.reward_per_win,
                        source=lead.source,
                        channel_type=source_spec.channel_type,
                        note=f"Referral reward: {company}",
                    )
                )

        # Open leads end disqualified (opportunities: lost) some of the time, before the data ends.
        horizon = self.end_of_data
        if rng.random() < {0: 0.3, 1: 0.35, 2: 0.25, 3: 0.55}.get(plan.depth, 0):
            ended_at = _office_hours_after(rng, transitions[-1].at, timedelta(days=rng.uniform(2, 25)))
            if ended_at < self.end_of_data:
                lost = stage == Stage.OPPORTUNITY
                reason = rng.choice(_LOST_REASONS if lost else _DISQUALIFY_REASONS)
                to_stage = Stage.LOST if lost else Stage.DISQUALIFIED
                transitions.append(
                    StageTransition(
                        organization=self.org,
                        lead=lead,
                        from_stage=stage,
                        to_stage=to_stage,
                        at=ended_at,
                        by=owner,
                        via=Via.UI,
                        reason=reason,
                    )
                )
                stage = to_stage
                lead.close_reason = reason
                if lost:
                    lead.closed_at = ended_at
                horizon = ended_at
        lead.stage = stage
        lead.version = len(transitions)  # 1 at creation, +1 per stage move

        activities = self.touchpoints(
            lead=lead, owner=owner, depth=plan.depth, reached=reached, horizon=horizon
        )
        lead.first_contacted_at = min(
            (a.occurred_at for a in activities if a.kind in OUTBOUND_KINDS), default=None
        )
        lead.first_meeting_at = min(
            (a.occurred_at for a in activities if a.kind in MEETING_KINDS), default=None
        )

        self.leads.append(lead)
        self.transitions.extend(transitions)
        self.activities.extend(activities)

    def touchpoints(
        self, *, lead: Lead, owner: User, depth: int, reached: dict[int, datetime], horizon: datetime
    ) -> list[Activity]:
        """The form, the first touch (median four hours), follow-ups, a meeting before SQL, a demo."""
        rng = self.rng
        created_at = lead.created_at
        activities: list[Activity] = []

        def log(
            kind: str, at: datetime, subject: str, *, actor: User | None = owner, via: str = Via.UI
        ) -> None:
            activities.append(
                Activity(
                    organization=self.org,
                    lead=lead,
                    kind=kind,
                    occurred_at=at,
                    actor=actor,
                    via=via,
                    subject=subject,
                )
            )

        if self.sources[lead.source.name].created_via == Via.FORM:
            log(ActivityKind.WEB_FORM, created_at, "Referral form submitted", actor=None, via=Via.FORM)
        if depth == 0 and rng.random() < 0.08:
            return activities  # never contacted
        latest = (reached[2] - created_at) * 0.6 if depth >= 2 else timedelta(days=10)
        delay = min(timedelta(hours=rng.lognormvariate(math.log(4), 1.1)), latest)
        touch = created_at + max(delay, timedelta(minutes=7))
        if touch >= horizon:
            return activities
        kind = rng.choice((ActivityKind.CALL, ActivityKind.EMAIL_SENT))
        log(kind, touch, "Intro call" if kind == ActivityKind.CALL else "Thanks for the referral")
        for _ in range(rng.randint(0, 2) if depth == 0 else rng.randint(1, 3)):
            touch = _office_hours_after(rng, touch, timedelta(days=rng.uniform(1, 6)))
            if touch >= horizon:
                break
            kind = rng.choice((ActivityKind.CALL, ActivityKind.EMAIL_SENT, ActivityKind.EMAIL_SENT))
            log(kind, touch, "Follow-up call" if kind == ActivityKind.CALL else "Following up")
            reply_at = touch + timedelta(hours=rng.uniform(1, 30))
            if kind == ActivityKind.EMAIL_SENT and rng.random() < 0.4 and reply_at < horizon:
                log(ActivityKind.EMAIL_REPLIED, reply_at, "Re: Following up", actor=None, via=Via.SYSTEM)
        if depth >= 2:
            meeting_at = created_at + (reached[2] - created_at) * rng.uniform(0.65, 0.95)
            log(ActivityKind.MEETING, meeting_at, "Discovery meeting")
        if depth >= 3:
            log(
                ActivityKind.DEMO, reached[2] + (reached[3] - reached[2]) * rng.uniform(0.3, 0.9), "Cell demo"
            )
        return activities

    def periodic_spend(self) -> list[SpendEntry]:
        return [
            SpendEntry(
                organization=self.org,
                spent_on=entry.spent_on,
                amount=entry.amount,
                source=self.catalog.sources[entry.source],
                channel_type=self.sources[entry.source].channel_type,
                note=entry.note,
            )
            for entry in self.dataset.periodic_spend
        ]


def demo_data_seed(*, dataset: DemoDataset) -> dict[str, int]:
    """Generate ``dataset`` into its organization unless a lead of it is already there.

    Returns the counts created (all zero on a later run). The organization and
    the owners must exist (``seed_demo_organizations``).
    """
    org = Organization.objects.get(slug=dataset.slug)
    created = dict.fromkeys(("leads", "transitions", "activities", "spend entries"), 0)
    with tenant_context(org):
        if Lead.objects.filter(external_id__startswith=f"{dataset.external_id_prefix}-").exists():
            return created
        rng = random.Random(dataset.seed)  # noqa: S311 - reproducible demo data, not security
        owners = {user.email: user for user in User.objects.filter(email__in=dataset.owners)}
        writer = _Writer(
            rng=rng, org=org, dataset=dataset, owners=[owners[email] for email in dataset.owners]
        )
        for quarter in dataset.quarters:
            planned = sorted(
                _plan_quarter(rng, quarter, dataset.external_id_prefix), key=lambda p: p.external_id
            )
            for plan in planned:
                writer.add(plan, quarter.year)
        Lead.objects.bulk_create(writer.leads, batch_size=500)
        StageTransition.objects.bulk_create(writer.transitions, batch_size=2000)
        Activity.objects.bulk_create(writer.activities, batch_size=2000)
        spend = writer.periodic_spend() + writer.rewards
        SpendEntry.objects.bulk_create(spend)
        created.update(
            {
                "leads": len(writer.leads),
                "transitions": len(writer.transitions),
                "activities": len(writer.activities),
                "spend entries": len(spend),
            }
        )
    return created
