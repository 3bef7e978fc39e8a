"""The web KPIs of the registry against a dataset counted by hand, around a local midnight.

Acme runs on America/New_York (UTC-5 in January); the day under test is local 2025-01-10,
i.e. [2025-01-10 05:00 UTC, 2025-01-11 05:00 UTC).

visitor  page view (UTC)         local            page        visit  notes
A        01-10 04:30             01-09 23:30      /           A1     first visit, the day before
A        01-10 05:10             01-10 00:10      /pricing    A2     40 min later: a new visit; from google
A        01-10 05:20             01-10 00:20      /pricing    A2     same page again
A        01-10 05:25             01-10 00:25      /contact    A2
B        01-10 15:00             01-10 10:00      /           B      utm_source=partner; new visitor
B        01-10 15:05             01-10 10:05      /pricing    B
C        01-11 04:59             01-10 23:59      /           C      referrer on the same site: direct; new
C        01-11 05:01             01-11 00:01      /blog       C      after local midnight: the next day
E        01-10 16:00             01-10 11:00      /           E      utm_source=partner; new
D        01-11 05:30             01-11 00:30      /           D      the next day

Local 2025-01-10: page views a2 a3 a4 b1 b2 c1 e1 = 7; visits landing A2 B C E = 4; unique
(visit, path) = (A2 /pricing) (A2 /contact) (B /) (B /pricing) (C /) (E /) = 6; visitors A B C E
= 4; new visitors (first visit landed that day) B C E = 3. Sources: partner 2 (50 %),
google.com 1 (25 %), direct 1 (25 %). Web forms: B's lead at 15:20 (visit B ends 15:05 + 30 min:
converted); E's lead at 17:00 (after 16:30: not converted); A's lead at 05:00 (before A2 began:
A2 not converted). Landing "/": B C E, 1 converted; "/pricing": A2, 0 converted; overall 1 / 4.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from capture.tracking import selectors, services
from leads.services import activity_log
from leadtrack.tenancy.context import tenant_context
from reports.metrics import REGISTRY
from reports.periods import local_midnight
from reports.selectors import metric_table
from tests.factories import make_lead
from tests.tracking.test_drain import accept, event

DAY = date(2025, 1, 10)
WEB = ("website_traffic", "page_views", "unique_page_views", "unique_visitors", "new_visitors")


def utc(month_day: str, hhmm: str) -> datetime:
    month, day = (int(x) for x in month_day.split("-"))
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def traffic(org, site, drain):
    org.time_zone = "America/New_York"
    org.save()
    site.allowed_domains = []
    rows = [
        ("visitor-A", "01-10", "04:30", "https://acme.example/", ""),
        ("visitor-A", "01-10", "05:10", "https://acme.example/pricing", "https://www.google.com/search?q=x"),
        ("visitor-A", "01-10", "05:20", "https://acme.example/pricing", "https://acme.example/pricing"),
        ("visitor-A", "01-10", "05:25", "https://acme.example/contact", "https://acme.example/pricing"),
        ("visitor-B", "01-10", "15:00", "https://acme.example/?utm_source=partner&utm_campaign=cert", ""),
        ("visitor-B", "01-10", "15:05", "https://acme.example/pricing", "https://acme.example/"),
        ("visitor-C", "01-11", "04:59", "https://www.acme.example/", "https://acme.example/blog"),
        ("visitor-C", "01-11", "05:01", "https://www.acme.example/blog", "https://www.acme.example/"),
        ("visitor-E", "01-10", "16:00", "https://acme.example/?utm_source=partner&utm_campaign=cert", ""),
        ("visitor-D", "01-11", "05:30", "https://acme.example/", ""),
    ]
    for visitor, day, hhmm, url, referrer in rows:
        accept(site, event(visitor, url, referrer=referrer), at=utc(day, hhmm))
    drain()
    for visitor, form_at in (("visitor-A", "05:00"), ("visitor-B", "15:20"), ("visitor-E", "17:00")):
        lead = make_lead(org, email=f"{visitor}@people.example")
        with tenant_context(org):
            services.visitor_identify(org=org, visitor_id=visitor, lead_id=lead.pk, via="form")
            activity_log(
                org=org, actor=None, lead_id=lead.pk, kind="web_form", occurred_at=utc("01-10", form_at)
            )
    return org


def values(org, period="custom", date_from=DAY, date_to=DAY, names=(*WEB, "landing_page_conversion")):
    with tenant_context(org):
        table = metric_table(
            org=org,
            metrics=list(names),
            period=period,
            group_by=[],
            date_from=date_from,
            date_to=date_to,
            filters={},
        )
    return [{name: row["values"][name].value for name in names} for row in table.rows]


def test_each_web_kpi_over_a_local_day(traffic):
    assert values(traffic) == [
        {
            "website_traffic": 4,
            "page_views": 7,
            "unique_page_views": 6,
            "unique_visitors": 4,
            "new_visitors": 3,
            "landing_page_conversion": pytest.approx(0.25),
        }
    ]


def test_daily_buckets_follow_the_organizations_midnight(traffic):
    rows = values(traffic, period="day", date_from=date(2025, 1, 9), date_to=date(2025, 1, 11))
    assert [row["page_views"] for row in rows] == [1, 7, 2]
    assert [row["website_traffic"] for row in rows] == [1, 4, 1]
    assert [row["new_visitors"] for row in rows] == [1, 3, 1]
    # A1 (01-09) converted: A's form at 05:00 came within 30 minutes of its last page view (04:30).
    assert rows[0]["landing_page_conversion"] == 1.0
    # D's visit on 01-11 has no form; C's 00:01 page view belongs to a visit that landed on 01-10.
    assert rows[2]["landing_page_conversion"] == 0.0


def test_traffic_sources_and_their_shares(traffic):
    with tenant_context(traffic):
        tz = traffic.tzinfo
        rows = selectors.traffic_sources(
            org=traffic,
            start=local_midnight(DAY, tz),
            end=local_midnight(date(2025, 1, 11), tz),
            start_date=DAY,
        )
    share = REGISTRY["traffic_source_share"]
    assert [
        (r["source_kind"], r["source_name"], r["visits"], share.compute(r, None).value) for r in rows
    ] == [
        ("campaign", "partner", 2, 0.5),
        ("direct", "(direct)", 1, 0.25),
        ("referral", "google.com", 1, 0.25),
    ]


def test_landing_page_conversion_per_page(traffic):
    with tenant_context(traffic):
        tz = traffic.tzinfo
        rows = selectors.landing_pages(
            org=traffic,
            start=local_midnight(DAY, tz),
            end=local_midnight(date(2025, 1, 11), tz),
            start_date=DAY,
        )
    assert [(r["path"], r["visits"], r["converted_visits"]) for r in rows] == [
        ("/", 3, 1),
        ("/pricing", 1, 0),
    ]


def test_an_empty_range_gives_zero_counts_and_no_rate(traffic):
    assert values(traffic, date_from=date(2024, 1, 1), date_to=date(2024, 1, 2)) == [
        {
            "website_traffic": 0,
            "page_views": 0,
            "unique_page_views": 0,
            "unique_visitors": 0,
            "new_visitors": 0,
            "landing_page_conversion": None,
        }
    ]


def test_a_slice_by_a_lead_dimension_has_no_web_values(traffic):
    with tenant_context(traffic):
        table = metric_table(
            org=traffic,
            metrics=["page_views", "leads"],
            period="custom",
            group_by=["source"],
            date_from=DAY,
            date_to=date.today(),
            filters={},
        )
    assert [row["values"]["leads"].value for row in table.rows] == [3]  # the fixture's leads, made today
    assert [row["values"]["page_views"].value for row in table.rows] == [None]
