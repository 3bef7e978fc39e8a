"""Export of the lead list (as filtered on the list page) to CSV and XLSX, safe to open in a spreadsheet.

Formula injection (docs/reliability.md I4): a text cell starting with = + - @ TAB CR or LF
would be evaluated by Excel/LibreOffice/Sheets. In CSV such a cell gets a leading
apostrophe; in XLSX every text cell is written as an inline string (never a
formula). Numbers stay numbers. The headers are the importer's field names, so an
export can be imported again as is.

These exports are marketing exports (docs/privacy.md, "Consent and lawful basis"): a list
leaves the CRM for mailing tools and campaigns, so a lead whose person withdrew from, or objected
to, marketing is never in it. They remain in the app, the API and the subject export (G1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from leads.imports.parsing import currency_exponent
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from leadtrack.tenancy.models import Organization

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
EXPORT_CHUNK_ROWS = 2000


def neutralize_formula(text: str) -> str:
    """A text that a spreadsheet would read as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _money(lead: Lead, field: str) -> Decimal | None:
    value = getattr(lead, field)
    return None if value is None else Decimal(value).scaleb(-currency_exponent(lead.currency))


def _text(field: str) -> Callable[[Lead], str]:
    return lambda lead: getattr(lead, field) or ""


def _related(field: str) -> Callable[[Lead], str]:
    return lambda lead: str(getattr(lead, field) or "")


COLUMNS: list[tuple[str, Callable[[Lead], Any]]] = [
    ("id", lambda lead: lead.pk),
    ("company", _text("company")),
    ("contact_name", _text("contact_name")),
    ("email", _text("email")),
    ("phone", _text("phone")),
    ("job_title", _text("job_title")),
    ("website", _text("website")),
    ("country", lambda lead: str(lead.country or "")),
    ("region", lambda lead: lead.get_region_display() if lead.region else ""),
    ("industry", _related("industry")),
    ("employees", lambda lead: lead.employees),
    ("segment", lambda lead: lead.get_segment_display() if lead.segment else ""),
    ("source", _related("source")),
    ("campaign", _related("campaign")),
    ("owner", lambda lead: lead.owner.email if lead.owner else ""),
    ("stage", lambda lead: lead.get_stage_display()),
    ("expected_amount", lambda lead: _money(lead, "expected_amount")),
    ("currency", _text("currency")),
    ("won_amount", lambda lead: _money(lead, "won_amount")),
    ("value_12m", lambda lead: _money(lead, "value_12m")),
    ("score", lambda lead: lead.score),
    ("external_id", _text("external_id")),
    ("created_at", lambda lead: lead.created_at),
    ("reached_mql_at", lambda lead: lead.reached_mql_at),
    ("reached_sql_at", lambda lead: lead.reached_sql_at),
    ("reached_opportunity_at", lambda lead: lead.reached_opportunity_at),
    ("closed_at", lambda lead: lead.closed_at),
    ("close_reason", _text("close_reason")),
    ("first_contacted_at", lambda lead: lead.first_contacted_at),
    ("first_meeting_at", lambda lead: lead.first_meeting_at),
    ("notes", _text("notes")),
]
HEADERS = [name for name, _ in COLUMNS]


def _leads(*, org: Organization, queryset: QuerySet[Lead]) -> Iterator[Lead]:
    """The leads of ``queryset`` (ordered newest first), fetched in keyset pages, each page in its own
    short tenant transaction: a streamed response outlives the request's transaction."""
    queryset = (
        queryset.filter(marketing_withdrawn_at__isnull=True)
        .select_related("industry", "source", "campaign", "owner")
        .order_by("-created_at", "-id")
    )
    last: tuple[datetime, int] | None = None
    while True:
        with tenant_context(org):
            page = queryset
            if last is not None:
                page = page.filter(Q(created_at__lt=last[0]) | Q(created_at=last[0], id__lt=last[1]))
            batch = list(page[:EXPORT_CHUNK_ROWS])
        yield from batch
        if len(batch) < EXPORT_CHUNK_ROWS:
            return
        last = (batch[-1].created_at, batch[-1].pk)


def _local(value: datetime, org: Organization) -> datetime:
    return value.astimezone(org.tzinfo).replace(tzinfo=None)


def _csv_cell(value: Any, org: Organization) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value, org).isoformat(sep=" ")
    if isinstance(value, str):
        return neutralize_formula(value)
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(*, org: Organization, queryset: QuerySet[Lead]) -> Iterator[str]:
    """The export as CSV lines (UTF-8 BOM first, so Excel reads accents right), for streaming."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADERS)
    for lead in _leads(org=org, queryset=queryset):
        yield writer.writerow([_csv_cell(getter(lead), org) for _, getter in COLUMNS])


def xlsx_bytes(*, org: Organization, queryset: QuerySet[Lead]) -> bytes:
    # Imported here: openpyxl weighs ~27 MB per process, and only an XLSX download needs it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Leads")

    def cell(value: Any) -> WriteOnlyCell:
        if isinstance(value, datetime):
            value = _local(value, org)
        result = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            # openpyxl turns a str starting with "=" into a formula unless told it is a string.
            result.data_type = "s"
        return result

    sheet.append([cell(header) for header in HEADERS])
    for lead in _leads(org=org, queryset=queryset):
        sheet.append([cell(getter(lead)) for _, getter in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
