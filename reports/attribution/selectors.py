"""Reads of attribution, e-mail engagement and the lead-side web KPIs: set-based SQL, one statement each.

Attribution (docs/metrics.md, registry entries ``attribution_*``): the conversions of a
period are the leads whose conversion time (reached MQL, SQL, opportunity; closed won)
lies in the period, in the organization's calendar, the same flow count as the
dashboards' MQLs … Won. Their touchpoints are page visits and form submissions at or
before that time; window functions number them per lead (``row_number``, ``count``) and
each model turns (position, count) into a weight. Every touchpoint carries its slice
(source, campaign, channel, landing page); a conversion without one is credited in full
to "(no touchpoint)", so each table adds up to the conversion count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from funnel.stages import Stage
from leads.models import ActivityKind, ChannelType
from leadtrack.tenancy.models import Organization
from reports import queries
from reports.attribution.models import ENDPOINT_LOOKUP_SETTING, EmailEndpoint
from reports.metrics import REGISTRY, Value
from reports.periods import local_midnight
from reports.selectors import report_settings_cached

NO_TOUCHPOINT = "(no touchpoint)"
NONE_LABEL = queries.NO_VALUE_LABEL
TOUCHPOINT_KINDS = (ActivityKind.PAGE_VISIT.value, ActivityKind.WEB_FORM.value)

MODELS = ("first_touch", "last_touch", "linear", "position_based")
CONVERSIONS: dict[str, str] = {
    "mql": "MQL",
    "sql": "SQL",
    "opportunity": "Opportunity",
    "won": "Won",
}
DIMENSIONS: dict[str, str] = {
    "source": "Source",
    "campaign": "Campaign",
    "channel": "Channel",
    "landing_page": "Landing page",
}

# When each conversion happened; a lead that never reached it has NULL.
_CONVERSION_AT: dict[str, str] = {
    "mql": "l.reached_mql_at",
    "sql": "l.reached_sql_at",
    "opportunity": "l.reached_opportunity_at",
    "won": f"CASE WHEN l.stage = '{Stage.WON.value}' THEN l.closed_at END",
}

# The weight of the touchpoint at ``position`` (1 = earliest) of a lead's ``touches``.
_WEIGHT: dict[str, str] = {
    "first_touch": "CASE WHEN t.position = 1 THEN 1.0 ELSE 0.0 END",
    "last_touch": "CASE WHEN t.position = t.touches THEN 1.0 ELSE 0.0 END",
    "linear": "1.0 / t.touches",
    "position_based": (
        "CASE WHEN t.touches = 1 THEN 1.0 WHEN t.touches = 2 THEN 0.5 "
        "WHEN t.position = 1 OR t.position = t.touches THEN 0.4 "
        "ELSE 0.2 / (t.touches - 2) END"
    ),
}

# Each dimension: (key, label) of a touchpoint, over the touch t, its matched source s and campaign c.
# A UTM value matching no Source/Campaign name is shown as sent, grouped case-insensitively.
_CHANNEL_LABELS = " ".join(
    f"WHEN '{value}' THEN '{label}'" for value, label in ChannelType.choices if "'" not in label
)
_DIMENSION_SQL: dict[str, tuple[str, str]] = {
    "source": (
        "CASE WHEN s.id IS NOT NULL THEN 'id:' || s.id WHEN t.utm_source <> '' "
        "THEN 'utm:' || lower(t.utm_source) END",
        "coalesce(s.name, nullif(t.utm_source, ''))",
    ),
    "campaign": (
        "CASE WHEN c.id IS NOT NULL THEN 'id:' || c.id WHEN t.utm_campaign <> '' "
        "THEN 'utm:' || lower(t.utm_campaign) END",
        "coalesce(c.name, nullif(t.utm_campaign, ''))",
    ),
    "channel": (
        "CASE WHEN s.id IS NOT NULL THEN 'type:' || s.channel_type WHEN t.utm_medium <> '' "
        "THEN 'utm:' || lower(t.utm_medium) END",
        f"CASE WHEN s.id IS NOT NULL THEN CASE s.channel_type {_CHANNEL_LABELS} ELSE s.channel_type END "
        "ELSE nullif(t.utm_medium, '') END",
    ),
    # The URL's path: what follows scheme://host, without query or fragment ("/" when empty).
    "landing_page": (
        "CASE WHEN t.url <> '' THEN coalesce(nullif(substring(t.url FROM "
        "'^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)'), ''), '/') END",
        "CASE WHEN t.url <> '' THEN coalesce(nullif(substring(t.url FROM "
        "'^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)'), ''), '/') END",
    ),
}


@dataclass(frozen=True)
class Period:
    """A range of local days [date_from, date_to], as aware instants [start, end)."""

    date_from: date
    date_to: date
    start: datetime
    end: datetime


def period_of(*, org: Organization, date_from: date, date_to: date) -> Period:
    """Raises ValidationError (field error) for a reversed range."""
    if date_to < date_from:
        raise ValidationError({"date_to": "Must be on or after the start date."})
    tz = org.tzinfo
    return Period(
        date_from, date_to, local_midnight(date_from, tz), local_midnight(date_to + timedelta(days=1), tz)
    )


def _run(sql_text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _credit_rows(
    *, org: Organization, period: Period, model: str, conversion: str, dimension: str
) -> list[dict]:
    """Per slice: credit (attributed conversions), credit x won amount, credit x 12-month value."""
    if model not in _WEIGHT:
        raise ValidationError({"model": f"Choose one of {', '.join(MODELS)}."})
    if conversion not in _CONVERSION_AT:
        raise ValidationError({"conversion": f"Choose one of {', '.join(CONVERSIONS)}."})
    if dimension not in _DIMENSION_SQL:
        raise ValidationError({"dimension": f"Choose one of {', '.join(DIMENSIONS)}."})
    converted_at = _CONVERSION_AT[conversion]
    key_sql, label_sql = _DIMENSION_SQL[dimension]
    # One pass: each converted lead LEFT JOINed to its touchpoints, numbered by window functions; a
    # lead with none keeps one row with touches = 0 and takes the whole credit to "(no touchpoint)".
    text = f"""
WITH touch AS (
    SELECT v.lead_id, v.won_amount, v.value_12m, a.url, a.utm_source, a.utm_medium, a.utm_campaign,
           row_number() OVER (PARTITION BY v.lead_id ORDER BY a.occurred_at, a.id) AS position,
           count(a.id) OVER (PARTITION BY v.lead_id) AS touches
    FROM (
        SELECT l.id AS lead_id, {converted_at} AS converted_at,
               coalesce(l.won_amount, 0) AS won_amount, coalesce(l.value_12m, 0) AS value_12m
        FROM leads_lead l
        WHERE l.organization_id = %(org)s AND l.deleted_at IS NULL
          AND {converted_at} >= %(start)s AND {converted_at} < %(end)s
    ) v
    LEFT JOIN leads_activity a
      ON a.organization_id = %(org)s AND a.lead_id = v.lead_id
     AND a.kind IN %(kinds)s AND a.occurred_at <= v.converted_at
),
credited AS (
    SELECT t.lead_id, t.won_amount, t.value_12m,
           CASE WHEN t.touches = 0 THEN %(no_touch)s ELSE coalesce({key_sql}, '') END AS slice,
           CASE WHEN t.touches = 0 THEN %(no_touch)s ELSE {label_sql} END AS label,
           CASE WHEN t.touches = 0 THEN 1.0 ELSE {_WEIGHT[model]} END AS credit
    FROM touch t
    LEFT JOIN leads_source s ON s.organization_id = %(org)s AND t.utm_source <> ''
        AND lower(s.name) = lower(t.utm_source)
    LEFT JOIN leads_campaign c ON c.organization_id = %(org)s AND t.utm_campaign <> ''
        AND lower(c.name) = lower(t.utm_campaign)
)
SELECT k.slice, min(k.label) AS label,
       sum(k.credit)::float8 AS credit,
       sum(k.credit * k.won_amount)::float8 AS won_amount,
       sum(k.credit * k.value_12m)::float8 AS value_12m,
       count(DISTINCT k.lead_id) AS leads
FROM credited k
WHERE k.credit > 0
GROUP BY k.slice
"""
    return _run(
        text,
        {
            "org": org.pk,
            "start": period.start,
            "end": period.end,
            "kinds": TOUCHPOINT_KINDS,
            "no_touch": NO_TOUCHPOINT,
        },
    )


def conversions_count(*, org: Organization, period: Period, conversion: str) -> int:
    """The leads that converted in the period: what every attribution table adds up to."""
    if conversion not in _CONVERSION_AT:
        raise ValidationError({"conversion": f"Choose one of {', '.join(CONVERSIONS)}."})
    converted_at = _CONVERSION_AT[conversion]
    rows = _run(
        f"""SELECT count(*) AS n FROM leads_lead l
WHERE l.organization_id = %(org)s AND l.deleted_at IS NULL
  AND {converted_at} >= %(start)s AND {converted_at} < %(end)s""",
        {"org": org.pk, "start": period.start, "end": period.end},
    )
    return int(rows[0]["n"])


@dataclass(frozen=True)
class AttributionTable:
    model: str
    conversion: str
    dimension: str
    rows: list[dict[str, Any]]  # slice, label, values {metric name: Value}, leads
    total: Value
    conversions: int


def attribution_table(
    *, org: Organization, model: str, conversion: str, dimension: str, date_from: date, date_to: date
) -> AttributionTable:
    """Credit per slice under ``model``, for the ``conversion``s of [date_from, date_to] (local days).

    Raises ValidationError (field errors) for an unknown model, conversion or dimension or a reversed range.
    """
    period = period_of(org=org, date_from=date_from, date_to=date_to)
    settings = report_settings_cached(org=org)
    credit_metric = REGISTRY[f"attribution_{model}"] if model in _WEIGHT else None
    found = _credit_rows(org=org, period=period, model=model, conversion=conversion, dimension=dimension)
    revenue_metric = REGISTRY["attributed_won_revenue"]
    rows = []
    for row in found:
        label = row["label"] or NONE_LABEL
        rows.append(
            {
                "slice": row["slice"],
                "label": label,
                "leads": row["leads"],
                "values": {
                    credit_metric.name: credit_metric.compute(row, settings),
                    revenue_metric.name: revenue_metric.compute(row, settings),
                },
            }
        )
    # Largest credit first; "(no touchpoint)" and "(none)" last.
    rows.sort(
        key=lambda r: (r["label"] in (NO_TOUCHPOINT, NONE_LABEL), -r["values"][credit_metric.name].value)
    )
    total = sum(r["values"][credit_metric.name].value for r in rows)
    return AttributionTable(
        model=model,
        conversion=conversion,
        dimension=dimension,
        rows=rows,
        total=Value(total),
        conversions=conversions_count(org=org, period=period, conversion=conversion),
    )


def campaign_returns(
    *, org: Organization, model: str, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    """Per campaign, under ``model``: attributed wins, won revenue, spend, CAC and ROI of the period.

    Spend is the registry's (reports.queries.spend_measures: campaign cost dated at its start date
    plus the campaign's spend entries in the period). A campaign with spend and no credited win
    is listed (CAC "—"); a UTM campaign matching no Campaign has no spend ("—").
    """
    period = period_of(org=org, date_from=date_from, date_to=date_to)
    settings = report_settings_cached(org=org)
    found = {
        row["slice"]: row
        for row in _credit_rows(org=org, period=period, model=model, conversion="won", dimension="campaign")
    }
    scope = queries.Scope(
        org_id=org.pk,
        time_zone=org.time_zone,
        start=period.start,
        end=period.end,
        start_date=date_from,
        end_date=date_to + timedelta(days=1),
        as_of=timezone.now(),
        filtered_leads=None,
        spend_filters={},
        spend_attributable=True,
    )
    spend = {
        f"id:{row['dim_campaign']}": row["spend"]
        for row in queries.spend_measures(
            scope=scope, grain=None, dimensions=[queries.DIMENSIONS["campaign"]]
        )
        if row["dim_campaign"] is not None
    }
    names = {
        row["slice"]: row["name"]
        for row in _run(
            "SELECT 'id:' || id AS slice, name FROM leads_campaign WHERE organization_id = %(org)s",
            {"org": org.pk},
        )
    }
    metrics = [REGISTRY[f"attribution_{model}"]] + [
        REGISTRY[name] for name in ("attributed_won_revenue", "attributed_cac", "attributed_roi")
    ]
    rows = []
    for key in sorted(set(found) | set(spend), key=lambda k: (not k.startswith("id:"), k)):
        credit = found.get(key, {})
        measures = {
            "credit": credit.get("credit") or 0.0,
            "won_amount": credit.get("won_amount") or 0.0,
            "value_12m": credit.get("value_12m") or 0.0,
            "spend": spend.get(key, 0) if key.startswith("id:") else None,
        }
        label = credit.get("label") or names.get(key) or NONE_LABEL
        rows.append(
            {
                "slice": key,
                "label": label,
                "values": {metric.name: metric.compute(measures, settings) for metric in metrics},
            }
        )
    rows.sort(key=lambda r: (r["label"] in (NO_TOUCHPOINT, NONE_LABEL), r["label"].lower()))
    return rows


def email_engagement(*, org: Organization, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per campaign: messages delivered in the period, and the share opened, clicked, unsubscribed.

    A message is one ``message_id``; it is delivered in the period when its delivered event is.
    Opens, clicks and unsubscribes count once per message, whenever they happened (as of now),
    and only for delivered messages, so a rate never exceeds 100 %. The campaign name the
    e-mail service sent is matched to the organization's Campaign case-insensitively.
    """
    period = period_of(org=org, date_from=date_from, date_to=date_to)
    settings = report_settings_cached(org=org)
    found = _run(
        """
WITH message AS (
    SELECT e.message_id,
           max(e.campaign) FILTER (WHERE e.campaign <> '') AS campaign,
           min(e.occurred_at) FILTER (WHERE e.event_type = 'delivered') AS delivered_at,
           bool_or(e.event_type = 'open') AS opened,
           bool_or(e.event_type = 'click') AS clicked,
           bool_or(e.event_type = 'unsubscribe') AS unsubscribed
    FROM attribution_emailevent e
    WHERE e.organization_id = %(org)s
    GROUP BY e.message_id
)
SELECT coalesce('id:' || c.id, 'utm:' || lower(m.campaign), '') AS slice,
       coalesce(min(c.name), min(m.campaign)) AS label,
       count(*) AS delivered,
       count(*) FILTER (WHERE m.opened) AS opened,
       count(*) FILTER (WHERE m.clicked) AS clicked,
       count(*) FILTER (WHERE m.unsubscribed) AS unsubscribed
FROM message m
LEFT JOIN leads_campaign c ON c.organization_id = %(org)s AND lower(c.name) = lower(m.campaign)
WHERE m.delivered_at >= %(start)s AND m.delivered_at < %(end)s
GROUP BY 1
""",
        {"org": org.pk, "start": period.start, "end": period.end},
    )
    metrics = [REGISTRY[name] for name in ("email_open_rate", "email_click_rate", "email_unsubscribe_rate")]
    rows = [
        {
            "slice": row["slice"],
            "label": row["label"] or NONE_LABEL,
            "delivered": row["delivered"],
            "values": {metric.name: metric.compute(row, settings) for metric in metrics},
        }
        for row in found
    ]
    rows.sort(key=lambda r: (r["label"] == NONE_LABEL, r["label"].lower()))
    totals = {
        measure: sum(row[measure] for row in found)
        for measure in ("delivered", "opened", "clicked", "unsubscribed")
    }
    rows_total = {
        "slice": "",
        "label": "All campaigns",
        "delivered": totals["delivered"],
        "values": {metric.name: metric.compute(totals, settings) for metric in metrics},
    }
    return [*rows, rows_total]


def email_endpoint_get(*, org: Organization) -> EmailEndpoint | None:
    return EmailEndpoint.objects.filter(organization=org).first()


def email_endpoint_for_key(*, key: str) -> EmailEndpoint | None:
    """The endpoint an inbound post names, with its organization, or None. Needs a transaction.

    The one read before an organization is known: the transaction-local
    ``app.email_endpoint_key`` makes exactly the row with that key visible (migration 0002).
    """
    if not key or len(key) > 64:
        return None
    if not connection.in_atomic_block:
        raise RuntimeError(
            "email_endpoint_for_key needs a transaction: the lookup setting is transaction-local"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [ENDPOINT_LOOKUP_SETTING, key])
    return EmailEndpoint.unscoped.select_related("organization").filter(key=key).first()
