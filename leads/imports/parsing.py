"""Reading uploaded CSV/XLSX files, and turning one row into lead values.

``RowParser.parse`` is the one place a row is parsed and validated: the
per-row service path, the set-based fast path, the dry run and the REST bulk
endpoint all call it, so a date, an amount or a country means the same thing
everywhere.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django_countries import countries

from funnel.stages import Stage
from leads import rules
from leads.models import Campaign, ChannelType, Industry, Lead, Source, http_url_validator
from leads.services import LEAD_WRITABLE_FIELDS
from leadtrack.tenancy.models import Membership, Organization
from leadtrack.tenancy.roles import Role

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# An .xlsx is a zip: refuse archives that would inflate far beyond any real export (zip bombs).
MAX_XLSX_UNCOMPRESSED_BYTES = 250 * 1024 * 1024
MAX_XLSX_ENTRIES = 500

HISTORY_FIELDS = (
    "stage",
    "created_at",
    "reached_mql_at",
    "reached_sql_at",
    "reached_opportunity_at",
    "closed_at",
    "close_reason",
)
IMPORT_FIELDS = (*LEAD_WRITABLE_FIELDS, *HISTORY_FIELDS)
DATE_FIELDS = ("created_at", "reached_mql_at", "reached_sql_at", "reached_opportunity_at", "closed_at")
MONEY_FIELDS = ("expected_amount", "won_amount", "value_12m")
NAMED_MODELS: dict[str, type] = {"industry": Industry, "source": Source, "campaign": Campaign}
TEXT_FIELDS = ("company", "contact_name", "phone", "job_title", "external_id", "notes", "close_reason")
# Not a lead value but the lead's version as the caller read it (the REST bulk endpoint): a matched
# lead is updated only at that version. No file column maps to it.
VERSION_FIELD = "version"

# PostgreSQL integer / bigint limits (employees; money in minor units).
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1

# Cells that CRMs and spreadsheets use to mean "nothing here".
BLANK_PLACEHOLDERS = frozenset({"select", "n/a", "#n/a", "null", "--", "(none)", "none selected"})
_LONGEST_PLACEHOLDER = max(map(len, BLANK_PLACEHOLDERS))


class ImportFileError(Exception):
    """The file cannot be read at all (empty, wrong type, too large, unreadable encoding)."""


# --- Reading files -------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    content: bytes
    file_format: str
    encoding: str = ""
    notice: str = ""

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) of every non-blank data row; row 1 is the first row after the header."""
        source = (
            _csv_rows(self.content, self.encoding) if self.file_format == "csv" else _xlsx_rows(self.content)
        )
        next(source, None)  # the header
        for number, cells in enumerate(source, start=1):
            if any(cell not in (None, "") and str(cell).strip() for cell in cells):
                yield number, list(cells)

    def records(self, mapping: Mapping[int, str]) -> Iterator[tuple[int, dict[str, Any], list[Any]]]:
        """(row number, {target: value}, original cells) using ``mapping`` column index → target."""
        for number, cells in self.rows():
            record: dict[str, Any] = {}
            for index, target in mapping.items():
                record[target] = cells[index] if index < len(cells) else None
            yield number, combine_name_parts(record), cells


def combine_name_parts(record: dict[str, Any]) -> dict[str, Any]:
    """First and last name columns (Salesforce, HubSpot) become the contact name."""
    if "first_name" in record or "last_name" in record:
        parts = [record.pop("first_name", None), record.pop("last_name", None)]
        joined = " ".join(str(p).strip() for p in parts if p not in (None, "") and str(p).strip())
        if joined and not str(record.get("contact_name") or "").strip():
            record["contact_name"] = joined
    return record


def detect_format(*, file_name: str, content: bytes) -> str:
    if content[:4] == b"PK\x03\x04":
        return "xlsx"
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError("This .xlsx file is damaged or not really an Excel workbook.")
    if file_name.lower().endswith((".xls",)):
        raise ImportFileError("Old Excel (.xls) files are not supported: save the sheet as .xlsx or CSV.")
    return "csv"


def _decode(content: bytes) -> tuple[str, str, str]:
    """(text, encoding, notice). UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16", ""
    try:
        return content.decode("utf-8-sig"), "utf-8-sig", ""
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "The file is neither UTF-8 nor Windows-1252 text. Export it again as “CSV UTF-8” "
            f"(the first unreadable byte is at position {exc.start})."
        ) from exc
    return (
        text,
        "cp1252",
        "The file is not UTF-8; it was read as Windows-1252 (Western European). "
        "Check accented names in the preview; if they look wrong, export it again as “CSV UTF-8”.",
    )


_SNIFF_CHARS = 65536


def _csv_rows(content: bytes, encoding: str) -> Iterator[list[str]]:
    # Decoded as it is read: the whole text in a StringIO took four bytes a character (60 MB for a
    # 15 MB file) in every import chunk, and an import's chunks run side by side.
    head = content[: _SNIFF_CHARS * 4]  # at most four bytes a character in UTF-8, UTF-16 or cp1252
    sample = codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) == len(content))
    try:
        dialect = csv.Sniffer().sniff(sample[:_SNIFF_CHARS], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    lines = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    yield from csv.reader(lines, delimiter=delimiter)


# What zipfile raises for an archive it cannot read: besides BadZipFile, NotImplementedError for a
# "version needed to extract" above its own (found by the I5 upload fuzz as a 500), and the errors
# of reading past a truncated or inconsistent directory.
_UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    ValueError,
    EOFError,
    OSError,
)


def _check_xlsx(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except _UNREADABLE_ZIP as exc:
        raise ImportFileError("This .xlsx file is damaged or not really an Excel workbook.") from exc
    entries = archive.infolist()
    if len(entries) > MAX_XLSX_ENTRIES:
        raise ImportFileError(
            f"This workbook has {len(entries)} parts; at most {MAX_XLSX_ENTRIES} are accepted."
        )
    # zipfile never inflates an entry past its declared size, so the declared total bounds the work.
    if sum(entry.file_size for entry in entries) > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise ImportFileError(
            "This workbook inflates to more than "
            f"{MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB when opened; it was refused."
        )


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    import openpyxl  # openpyxl parses its XML with defusedxml when installed (it is)

    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _unique_headers(raw: list[Any]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for position, value in enumerate(raw, start=1):
        name = str(value).strip() if value not in (None, "") else f"Column {position}"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return headers


def read_table(*, file_name: str, content: bytes) -> Table:
    """Open an upload; raise ImportFileError with a message a person can act on."""
    if not content:
        raise ImportFileError("The file is empty.")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    file_format = detect_format(file_name=file_name, content=content)
    encoding = notice = ""
    if file_format == "xlsx":
        _check_xlsx(content)
        try:
            header_row = next(_xlsx_rows(content), None)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise ImportFileError(f"This workbook cannot be read ({exc.__class__.__name__}).") from exc
    else:
        _, encoding, notice = _decode(content)
        try:
            header_row = next(_csv_rows(content, encoding), None)
        except csv.Error as exc:
            raise ImportFileError(f"This is not a readable CSV file: {exc}.") from exc
    if header_row is None or not any(cell not in (None, "") for cell in header_row):
        raise ImportFileError("The file is empty.")
    for position, cell in enumerate(header_row, start=1):
        # The column names are stored with the job (text and jsonb cannot hold a NUL character).
        if isinstance(cell, str) and "\x00" in cell:
            raise ImportFileError(f"The name of column {position} contains a null character.")
    table = Table(
        headers=_unique_headers(list(header_row)),
        content=content,
        file_format=file_format,
        encoding=encoding,
        notice=notice,
    )
    if _check_every_row(table) == 0:
        raise ImportFileError("The file has a header row but no data rows.")
    return table


def _check_every_row(table: Table) -> int:
    """Read every row once and count the data rows. A file that breaks at row 70,000 (an oversized
    cell, broken XML, a bad checksum) is then refused at upload, with nothing stored, instead of
    failing the preview or an import after some chunks were committed."""
    count = last = 0
    try:
        for last, _ in table.rows():  # noqa: B007 - the last row read names where a file broke
            count += 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportFileError(
                f"A cell after row {last} is longer than {csv.field_size_limit():,} characters, "
                "the most one cell may hold."
            ) from exc
        raise ImportFileError(f"This is not a readable CSV file after row {last}: {exc}.") from exc
    except Exception as exc:  # openpyxl, zipfile and the XML parser raise many types for a broken workbook
        if table.file_format != "xlsx":
            raise
        raise ImportFileError(
            f"This workbook cannot be read after row {last} ({exc.__class__.__name__})."
        ) from exc
    return count


# --- Values ----------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value is not acceptable; the message says why."""


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return "" if len(text) <= _LONGEST_PLACEHOLDER and text.lower() in BLANK_PLACEHOLDERS else text


_US_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_DOT_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # as strptime's %y: 69-99 → 1900s, 00-68 → 2000s
        year += 1900 if year >= 69 else 2000
    return year


def parse_datetime(value: Any, *, tz) -> datetime:
    """ISO 8601 (with or without time and offset), US MM/DD/YY[YY] [hh:mm [AM|PM]], DD.MM.YYYY.

    A slash date whose first number is above 12 is read day-first (25/12/2024).
    A time without an offset, or a bare date (midnight), is in the organization's time zone.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time.min)
    else:
        text = as_text(value)
        result = None
        try:
            result = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
        except ValueError:
            match = _US_DATE.match(text)
            if match:
                first, second, year, hour, minute, second_of_minute, meridiem = match.groups()
                month, day = int(first), int(second)
                if month > 12:
                    month, day = day, month
                hour_value = int(hour or 0)
                if meridiem:
                    if not 1 <= hour_value <= 12:
                        raise CellError(f"“{text}” is not a valid time.") from None
                    hour_value = hour_value % 12 + (12 if meridiem.lower() == "pm" else 0)
                try:
                    result = datetime(
                        _year(year), month, day, hour_value, int(minute or 0), int(second_of_minute or 0)
                    )
                except ValueError:
                    raise CellError(f"“{text}” is not a valid date.") from None
            elif match := _DOT_DATE.match(text):
                day, month, year, hour, minute, second_of_minute = match.groups()
                try:
                    result = datetime(
                        int(year),
                        int(month),
                        int(day),
                        int(hour or 0),
                        int(minute or 0),
                        int(second_of_minute or 0),
                    )
                except ValueError:
                    raise CellError(f"“{text}” is not a valid date.") from None
        if result is None:
            raise CellError(f"“{text}” is not a date (use YYYY-MM-DD or MM/DD/YYYY).")
    if timezone.is_naive(result):
        result = result.replace(tzinfo=tz)
    return result


# Currencies whose minor unit is not 1/100 (ISO 4217 exponent).
_CURRENCY_EXPONENT = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}
_AMOUNT = re.compile(
    r"^(?:[A-Za-z]{3})?\s*[$€£¥]?\s*(?P<number>[\d][\d.,\s']*)\s*[$€£¥]?\s*(?:[A-Za-z]{3})?$"
)


def currency_exponent(currency: str) -> int:
    """Digits of the minor unit: 2 for USD/EUR (cents), 0 for JPY."""
    return _CURRENCY_EXPONENT.get(currency, 2)


def parse_amount(value: Any, *, currency: str) -> int:
    """An amount in major units ("1,234.50", "$99", "1.234,50") → integer minor units."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        text = as_text(value)
        match = _AMOUNT.match(text.replace("\u00a0", " "))
        if not match:
            raise CellError(f"“{text}” is not an amount.")
        cleaned = re.sub(r"[\s']", "", match["number"])
        if "," in cleaned and "." in cleaned:
            decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
            thousands = "." if decimal_mark == "," else ","
            cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
        elif "," in cleaned:
            groups = cleaned.split(",")
            if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
                cleaned = cleaned.replace(",", "")
            else:
                cleaned = cleaned.replace(",", ".")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise CellError(f"“{text}” is not an amount.") from None
    if not number.is_finite():
        raise CellError("Not an amount.")
    if number < 0:
        raise CellError("Must be zero or more.")
    exponent = currency_exponent(currency)
    minor = number.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise CellError(f"{number} has more than {exponent} decimals for {currency}.")
    if minor > MAX_BIGINT:
        raise CellError("Too large.")
    return int(minor)


def parse_int(value: Any) -> int:
    """A count such as employees: a whole number from 0 to the column's limit ("1,200" and 1200.0 too)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _in_int_range(value)
    text = as_text(value).replace(",", "").replace(" ", "")
    if text.isdigit():
        return _in_int_range(int(text))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(f"“{as_text(value)}” is not a whole number.") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(f"“{as_text(value)}” is not a whole number.")
    return _in_int_range(int(number))


def _in_int_range(number: int) -> int:
    if number < 0:
        raise CellError("Must be zero or more.")
    if number > MAX_INT:
        raise CellError("Too large.")
    return number


_COUNTRY_ALIASES = {
    "united states": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "america": "US",
    "united states of america": "US", "uk": "GB", "u.k.": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "britain": "GB", "russia": "RU",
    "south korea": "KR", "korea": "KR", "north korea": "KP", "vietnam": "VN", "viet nam": "VN",
    "taiwan": "TW", "iran": "IR", "syria": "SY", "laos": "LA", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "moldova": "MD", "czechia": "CZ", "czech republic": "CZ", "holland": "NL",
    "the netherlands": "NL", "uae": "AE", "ivory coast": "CI", "hong kong": "HK", "macau": "MO",
    "brunei": "BN", "palestine": "PS", "deutschland": "DE", "turkey": "TR", "türkiye": "TR",
    "swaziland": "SZ", "cape verde": "CV", "macedonia": "MK", "burma": "MM",
}  # fmt: skip
_COUNTRY_NAMES = {str(name).lower(): code for code, name in countries}
_ALPHA2_CODES = frozenset(code for code, _ in countries)


def parse_country(value: Any) -> str:
    """A country name or ISO 3166 code (alpha-2, alpha-3) → alpha-2."""
    text = as_text(value)
    if text in _ALPHA2_CODES:
        return text
    key = text.lower().strip(". ")
    code = _COUNTRY_ALIASES.get(text.lower()) or _COUNTRY_NAMES.get(key)
    if not code and len(text) in (2, 3) and text.isalpha():
        code = countries.alpha2(text)
    if not code:
        code = countries.by_name(text, insensitive=True) or ""
    if not code:
        raise CellError(f"Unknown country “{text}”.")
    return code


# Stage names: ours, Salesforce lead statuses and opportunity stages, HubSpot lifecycle stages.
# A CRM status that closes a lead also gives the reason when the file has none.
_STAGE_VALUES: dict[str, str] = {
    **{stage.value: stage.value for stage in Stage},
    **{stage.label.lower(): stage.value for stage in Stage},
    "new": Stage.LEAD, "open": Stage.LEAD, "open - not contacted": Stage.LEAD,
    "working - contacted": Stage.LEAD, "working": Stage.LEAD, "contacted": Stage.LEAD,
    "nurturing": Stage.LEAD,
    "subscriber": Stage.LEAD, "other": Stage.LEAD, "prospecting": Stage.LEAD,
    "marketing qualified lead": Stage.MQL, "marketingqualifiedlead": Stage.MQL,
    "qualified": Stage.SQL, "sales qualified lead": Stage.SQL, "salesqualifiedlead": Stage.SQL,
    # A converted Salesforce lead was accepted by sales; its deal lives in the Opportunity file.
    "closed - converted": Stage.SQL, "converted": Stage.SQL,
    "qualification": Stage.OPPORTUNITY, "needs analysis": Stage.OPPORTUNITY,
    "value proposition": Stage.OPPORTUNITY,
    "id. decision makers": Stage.OPPORTUNITY, "perception analysis": Stage.OPPORTUNITY,
    "proposal/price quote": Stage.OPPORTUNITY, "proposal/quote": Stage.OPPORTUNITY,
    "negotiation/review": Stage.OPPORTUNITY, "negotiation": Stage.OPPORTUNITY, "discovery": Stage.OPPORTUNITY,
    "engaging": Stage.OPPORTUNITY,
    "closed won": Stage.WON, "customer": Stage.WON, "evangelist": Stage.WON, "closedwon": Stage.WON,
    "closed lost": Stage.LOST, "closedlost": Stage.LOST,
    "closed - not converted": Stage.DISQUALIFIED, "unqualified": Stage.DISQUALIFIED,
}  # fmt: skip


def parse_stage(value: Any) -> tuple[str, str]:
    """(stage, reason implied when the file has none). The stage service wants a reason for a lost or
    disqualified lead; an export from another CRM often has only the status, which then is the reason."""
    text = as_text(value)
    stage = _STAGE_VALUES.get(text.lower())
    if stage is None:
        raise CellError(f"Unknown stage “{text}”.")
    implied_reason = f"Imported as “{text}”" if stage in (Stage.LOST, Stage.DISQUALIFIED) else ""
    return stage, implied_reason


def guess_channel(name: str) -> str:
    """The channel type of a source created by an import, from its name ("Partner Referral", "Web")."""
    lowered = name.lower()
    for words, channel in (
        (("partner",), ChannelType.PARTNER_REFERRAL),
        (("employee",), ChannelType.EMPLOYEE_REFERRAL),
        (("referral", "word of mouth"), ChannelType.CUSTOMER_REFERRAL),
        (("trade show", "event", "seminar", "webinar", "conference"), ChannelType.EVENT),
        (("web", "form", "online", "landing"), ChannelType.WEB_FORM),
        (("paid", "ads", "ppc", "adwords", "advert"), ChannelType.PAID),
        (("cold call", "outbound", "purchased list", "phone inquiry"), ChannelType.OUTBOUND),
    ):
        if any(word in lowered for word in words):
            return channel
    return ChannelType.OTHER


# --- One row ----------------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    """A row turned into lead values. ``values`` hold LEAD_WRITABLE_FIELDS (industry, source and campaign
    as names, owner as a User); ``history`` the stage, dates and close reason; ``derived`` what
    leads.rules computes from them (normalized e-mail, domain, region, segment, currency);
    ``expected_version`` the matched lead's version the row was written against, if it says."""

    values: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    expected_version: int | None = None

    def add_error(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    @property
    def carries_history(self) -> bool:
        """A stage beyond "lead" or a stage date needs the stage service, row by row; a creation
        date alone does not."""
        stage = self.history.get("stage")
        return (stage is not None and stage != Stage.LEAD) or any(
            self.history.get(name) for name in HISTORY_FIELDS if name not in ("stage", "created_at")
        )

    def identity_keys(self) -> list[tuple[str, str]]:
        """The de-duplication keys of leads.services.duplicate_of, with the field each is reported on."""
        return identity_keys_of(
            email=self.derived.get("email", ""),
            domain=self.derived.get("domain", ""),
            contact_name=self.values.get("contact_name", ""),
            external_id=self.values.get("external_id", ""),
        )


def identity_keys_of(
    *, email: str, domain: str, contact_name: str, external_id: str
) -> list[tuple[str, str]]:
    keys = []
    if email:
        keys.append(("email", "email:" + email))
    if domain and contact_name:
        keys.append(("contact_name", f"name:{domain}|{contact_name.lower()}"))
    if external_id:
        keys.append(("external_id", "ext:" + external_id))
    return keys


def record_identity_keys(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The de-duplication keys of a raw row, normalized as RowParser does, without parsing the rest
    (finding repeated rows in a whole file is then ten times cheaper than parsing it)."""
    email = rules.normalize_email(as_text(record.get("email")))
    website = as_text(record.get("website"))
    url = website if not website or "//" in website else "http://" + website
    return identity_keys_of(
        email=email,
        domain=rules.domain_from(website=url, email=email),
        contact_name=as_text(record.get("contact_name")),
        external_id=as_text(record.get("external_id")),
    )


_IMPORT_FIELD_SET = frozenset(IMPORT_FIELDS)
_HISTORY_FIELD_SET = frozenset(HISTORY_FIELDS)
_MAX_LENGTH = {
    name: Lead._meta.get_field(name).max_length for name in (*TEXT_FIELDS, "email", "website", "currency")
}


class RowParser:
    """Parses rows for one organization; loads its owners, names and rules once."""

    def __init__(self, *, org: Organization, allow_history: bool):
        self.org = org
        self.allow_history = allow_history
        self.tz = org.tzinfo
        self.now = timezone.now()
        self.lead_rules = rules.lead_settings(org=org)
        self._regions: dict[str, str] = {}
        self._email_domains: dict[str, bool] = {}
        self._websites: dict[str, bool] = {}
        self.owners = {
            m.user.email.lower(): m.user
            for m in Membership.objects.filter(organization=org)
            .exclude(role=Role.PARTNER)
            .select_related("user")
        }
        self.known_names = {
            kind: {
                name.lower(): name
                for name in model.objects.filter(organization=org).values_list("name", flat=True)
            }
            for kind, model in NAMED_MODELS.items()
        }
        self.new_names: dict[str, dict[str, str]] = {kind: {} for kind in NAMED_MODELS}

    def _valid_email(self, email: str) -> bool:
        """Django's validate_email (the model field's validator), its domain check done once per domain:
        an export has thousands of addresses at a few hundred domains."""
        if "@" not in email or len(email) > 320:
            return False
        user, domain = email.rsplit("@", 1)
        if not validate_email.user_regex.match(user):
            return False
        if domain not in self._email_domains:
            self._email_domains[domain] = domain in validate_email.domain_allowlist or bool(
                validate_email.validate_domain_part(domain)
            )
        return self._email_domains[domain]

    def _valid_website(self, url: str) -> bool:
        """Django's URLValidator (the model field's), once per address: an export lists several
        contacts at one company, and the validator costs more than the rest of the row's parsing."""
        if url not in self._websites:
            try:
                http_url_validator(url)
            except ValidationError:
                self._websites[url] = False
            else:
                self._websites[url] = True
        return self._websites[url]

    def region(self, country: str) -> str:
        if country not in self._regions:
            self._regions[country] = rules.region_for(org=self.org, country=country)
        return self._regions[country]

    def parse(self, raw: Mapping[str, Any]) -> ParsedRow:
        row = ParsedRow()
        currency = as_text(raw.get("currency")).upper() or self.org.currency
        for name, value in raw.items():
            if value is None:
                continue
            if isinstance(value, str):
                value = as_text(value)
                if not value:
                    continue
            if name == VERSION_FIELD:
                try:
                    row.expected_version = parse_int(value)
                except CellError as exc:
                    row.add_error(name, str(exc))
            elif name not in _IMPORT_FIELD_SET:
                row.add_error(name, "Unknown field.")
            elif isinstance(value, str) and "\x00" in value:
                row.add_error(name, "Contains a null character.")
            elif name in _HISTORY_FIELD_SET and not self.allow_history:
                row.add_error(name, "Stage and dates are accepted only when importing history.")
            else:
                try:
                    self._parse_field(row, name, value, currency)
                except CellError as exc:
                    row.add_error(name, str(exc))
        self._check_row(row)
        return row

    def _parse_field(self, row: ParsedRow, name: str, value: Any, currency: str) -> None:
        text = value if isinstance(value, str) else as_text(value)  # parse() already cleaned strings
        if name in TEXT_FIELDS:
            limit = _MAX_LENGTH[name]
            if limit is not None and len(text) > limit:
                raise CellError(f"Longer than {_MAX_LENGTH[name]} characters.")
            (row.history if name in HISTORY_FIELDS else row.values)[name] = text
        elif name == "email":
            email = rules.normalize_email(text)
            if not self._valid_email(email):
                raise CellError(f"“{text}” is not an e-mail address.")
            if len(email) > _MAX_LENGTH["email"]:
                raise CellError(f"Longer than {_MAX_LENGTH['email']} characters.")
            row.values[name] = email
        elif name == "website":
            url = text if "//" in text else "http://" + text
            if not self._valid_website(url):
                raise CellError(f"“{text}” is not a web address.")
            if len(url) > _MAX_LENGTH["website"]:
                raise CellError(f"Longer than {_MAX_LENGTH['website']} characters.")
            row.values[name] = url
        elif name == "country":
            row.values[name] = parse_country(value)
        elif name in NAMED_MODELS:
            if len(text) > NAMED_MODELS[name]._meta.get_field("name").max_length:
                raise CellError("Name too long.")
            existing = self.known_names[name].get(text.lower())
            if existing is None:
                self.new_names[name].setdefault(text.lower(), text)
            row.values[name] = existing or self.new_names[name][text.lower()]
        elif name == "employees":
            row.values[name] = parse_int(value)
        elif name == "owner":
            user = self.owners.get(text.lower())
            if user is None:
                raise CellError(f"“{text}” is not the e-mail of a member of this organization.")
            row.values[name] = user
        elif name in MONEY_FIELDS:
            row.values[name] = parse_amount(value, currency=currency)
        elif name == "currency":
            text = text.upper()
            if not re.fullmatch(r"[A-Z]{3}", text):
                raise CellError(f"“{text}” is not a currency code (e.g. USD).")
            row.values[name] = text
        elif name in DATE_FIELDS:
            moment = parse_datetime(value, tz=self.tz)
            if moment > self.now:
                raise CellError("Cannot be in the future.")
            row.history[name] = moment
        elif name == "stage":
            stage, implied_reason = parse_stage(value)
            row.history["stage"] = stage
            if implied_reason:
                row.history.setdefault("implied_reason", implied_reason)

    def _check_row(self, row: ParsedRow) -> None:
        values = row.values
        if (
            not (values.get("company") or values.get("contact_name") or values.get("email"))
            and not row.errors
        ):
            row.add_error("company", "A lead needs a company, a contact name or an e-mail.")
        email = values.get("email", "")
        row.derived = {
            "email": email,
            "domain": rules.domain_from(website=values.get("website", ""), email=email),
            "region": self.region(values.get("country", "")),
            "segment": rules.segment_for(employees=values.get("employees"), rules=self.lead_rules),
            "currency": values.get("currency") or self.org.currency,
        }
        if "implied_reason" in row.history:
            implied = row.history.pop("implied_reason")
            row.history.setdefault("close_reason", implied)
