"""Reading files and parsing cells: formats, encodings, limits, and the one row parser."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest

from leads.imports.mapping import suggest_mapping
from leads.imports.parsing import (
    MAX_UPLOAD_BYTES,
    CellError,
    ImportFileError,
    RowParser,
    parse_amount,
    parse_country,
    parse_datetime,
    read_table,
)
from tests.leads.imports.helpers import SALESFORCE_HEADERS, csv_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-19", datetime(2024, 1, 19, tzinfo=UTC)),
        ("2024-01-19T09:42:24.000+0000", datetime(2024, 1, 19, 9, 42, 24, tzinfo=UTC)),
        ("02/24/26", datetime(2026, 2, 24, tzinfo=UTC)),
        ("02/23/26 08:55 PM", datetime(2026, 2, 23, 20, 55, tzinfo=UTC)),
        ("12/31/1999", datetime(1999, 12, 31, tzinfo=UTC)),
        ("25/12/2024", datetime(2024, 12, 25, tzinfo=UTC)),
        ("31.01.2024", datetime(2024, 1, 31, tzinfo=UTC)),
        ("2023-01-05 10:02", datetime(2023, 1, 5, 10, 2, tzinfo=UTC)),
    ],
)
def test_dates_in_the_formats_crms_export(text, expected):
    assert parse_datetime(text, tz=UTC) == expected


@pytest.mark.parametrize("text", ["13/45/2024", "yesterday", "2024-02-30", "02/23/26 13:00 PM"])
def test_a_wrong_date_says_so(text):
    with pytest.raises(CellError):
        parse_datetime(text, tz=UTC)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,234.50", "USD", 123450),
        ("$99", "USD", 9900),
        ("1.234,50", "EUR", 123450),
        ("1124741.15", "USD", 112474115),
        ("EUR 10", "EUR", 1000),
        ("5000", "JPY", 5000),
        (1651993.36, "USD", 165199336),
    ],
)
def test_amounts_in_major_units_become_minor_units(text, currency, minor):
    assert parse_amount(text, currency=currency) == minor


@pytest.mark.parametrize("text", ["ten", "1.234", "12.345,6x"])
def test_a_wrong_amount_says_so(text):
    with pytest.raises(CellError):
        parse_amount(text, currency="JPY" if text == "1.234" else "USD")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("United States", "US"),
        ("usa", "US"),
        ("DE", "DE"),
        ("GBR", "GB"),
        ("united kingdom", "GB"),
        ("Kenya", "KE"),
    ],
)
def test_countries_by_name_or_code(text, code):
    assert parse_country(text) == code


def test_an_unknown_country_is_an_error():
    with pytest.raises(CellError, match="Atlantis"):
        parse_country("Atlantis")


def test_the_row_parser_names_the_column_of_each_error(in_org, mike):
    parser = RowParser(org=in_org, allow_history=True)
    row = parser.parse(
        {
            "company": "Acme",
            "email": "bad",
            "country": "Narnia",
            "created_at": "13/45/2024",
            "employees": "-4",
        }
    )
    assert set(row.errors) == {"email", "country", "created_at", "employees"}
    owner_row = parser.parse({"company": "Acme", "owner": "nobody@else.example"})
    assert "owner" in owner_row.errors
    assert parser.parse({"company": "Acme", "owner": "MIKE@acme.example"}).values["owner"] == mike


def test_history_fields_need_history_allowed(in_org):
    row = RowParser(org=in_org, allow_history=False).parse({"company": "Acme", "stage": "sql"})
    assert "stage" in row.errors


def test_a_row_needs_an_identity(in_org):
    row = RowParser(org=in_org, allow_history=False).parse({"phone": "123"})
    assert "company" in row.errors


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError, match="empty"):
        read_table(file_name="leads.csv", content=b"")
    with pytest.raises(ImportFileError, match="empty"):
        read_table(file_name="leads.csv", content=b"\r\n\r\n")


def test_a_header_only_file_is_refused():
    with pytest.raises(ImportFileError, match="no data rows"):
        read_table(file_name="leads.csv", content=b"Company,Email\r\n")


def test_windows_1252_is_read_with_a_notice():
    content = "Company,Contact\r\nCaf\u00e9 M\u00fcller,Ren\u00e9e\r\n".encode("cp1252")
    table = read_table(file_name="leads.csv", content=content)
    assert table.encoding == "cp1252"
    assert "Windows-1252" in table.notice
    assert [cells for _, cells in table.rows()] == [["Caf\u00e9 M\u00fcller", "Ren\u00e9e"]]


def test_an_undecodable_file_gets_a_clear_message():
    content = b"Company,Contact\r\nAcme,\x81\x8d\x8f\x90\r\n"
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Windows-1252"):
        read_table(file_name="leads.csv", content=content)


def test_utf8_bom_crlf_and_semicolons():
    content = "\ufeffCompany;Email\r\nAcme;a@acme.example\r\n".encode()
    table = read_table(file_name="leads.csv", content=content)
    assert table.headers == ["Company", "Email"]
    assert [cells for _, cells in table.rows()] == [["Acme", "a@acme.example"]]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_the_file_is_read_as_one_decoded_text_would_be(encoding):
    # Read as it is decoded (leads/imports/parsing.py _csv_rows): quoted line breaks, separators
    # other than newlines inside cells, and a character cut by the delimiter sniffer's byte sample.
    filler = "é" * 70_000 if encoding != "cp1252" else "x" * 70_000
    rows = [
        ["Company", "Notes"],
        ["Acme", "first line\r\nsecond line"],
        ["Form\x0cfeed", "unicode\u2028separator" if encoding != "cp1252" else "plain"],
        ["Long", filler + "€"],
        ['Quote "q"', ""],
    ]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    content = buffer.getvalue().encode(encoding)
    table = read_table(file_name="leads.csv", content=content)
    assert table.headers == rows[0]
    assert [cells for _, cells in table.rows()] == [row for row in rows[1:] if any(row)]


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(ImportFileError, match="larger than"):
        read_table(file_name="big.csv", content=b"a" * (MAX_UPLOAD_BYTES + 1))


def test_a_10_mb_file_is_read_completely():
    row = ["Company {n}", "ann{n}@c{n}.example", "x" * 150]
    lines = [f"{row[0].format(n=n)},{row[1].format(n=n)},{row[2]}" for n in range(60_000)]
    content = ("Company,Email,Notes\r\n" + "\r\n".join(lines) + "\r\n").encode()
    assert 10 * 1024 * 1024 <= len(content) < MAX_UPLOAD_BYTES
    table = read_table(file_name="big.csv", content=content)
    assert sum(1 for _ in table.rows()) == 60_000


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_keep_their_types():
    content = _xlsx([["Company", "Created", "Employees"], ["Acme", datetime(2024, 3, 1, 9, 30), 250]])
    table = read_table(file_name="leads.xlsx", content=content)
    assert table.file_format == "xlsx"
    [(number, cells)] = list(table.rows())
    assert number == 1 and cells == ["Acme", datetime(2024, 3, 1, 9, 30), 250]


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    with pytest.raises(ImportFileError, match="inflates"):
        read_table(file_name="bomb.xlsx", content=buffer.getvalue())


def test_an_xlsx_with_too_many_parts_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(600):
            archive.writestr(f"x/{index}.xml", "<a/>")
    with pytest.raises(ImportFileError, match="parts"):
        read_table(file_name="many.xlsx", content=buffer.getvalue())


def test_a_fake_xlsx_is_refused():
    with pytest.raises(ImportFileError, match="damaged"):
        read_table(file_name="leads.xlsx", content=b"Company\r\nAcme\r\n")


def test_salesforce_headers_are_recognised():
    mapping = suggest_mapping(SALESFORCE_HEADERS)
    named = {SALESFORCE_HEADERS[index]: target for index, target in mapping.items()}
    assert named == {
        "Id": "external_id",
        "FirstName": "first_name",
        "LastName": "last_name",
        "Company": "company",
        "Email": "email",
        "Phone": "phone",
        "Title": "job_title",
        "Website": "website",
        "Country": "country",
        "Industry": "industry",
        "NumberOfEmployees": "employees",
        "LeadSource": "source",
        "Status": "stage",
        "CreatedDate": "created_at",
    }


def test_hubspot_headers_are_recognised():
    headers = [
        "Contact ID", "First Name", "Last Name", "Email", "Company Name", "Job Title", "Country/Region",
        "Industry", "Lifecycle Stage", "Status", "Create Date", "Became a Marketing Qualified Lead Date",
        "Became a Sales Qualified Lead Date", "Became an Opportunity Date", "Became a Customer Date",
        "Original Source", "Close Date",
    ]  # fmt: skip
    named = {headers[i]: t for i, t in suggest_mapping(headers).items()}
    assert named["Lifecycle Stage"] == "stage"
    assert "Status" not in named
    assert named["Became a Marketing Qualified Lead Date"] == "reached_mql_at"
    assert named["Became a Sales Qualified Lead Date"] == "reached_sql_at"
    assert named["Became an Opportunity Date"] == "reached_opportunity_at"
    assert named["Became a Customer Date"] == "closed_at"
    assert named["Company Name"] == "company" and named["Country/Region"] == "country"
    assert named["Original Source"] == "source" and named["Create Date"] == "created_at"


def test_csv_bytes_helper_round_trips():
    assert read_table(file_name="x.csv", content=csv_bytes(["A"], [["1"]])).headers == ["A"]


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com",
        "a.b+c@sub.example.co.uk",
        '"quoted user"@example.com',
        "user@[127.0.0.1]",
        "user@localhost",
        "no-at-sign",
        "two@@example.com",
        "user@-bad-.example",
        "user@example",
        "a" * 65 + "@example.com",
    ],
)
def test_the_cached_email_check_agrees_with_djangos_validator(in_org, email):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(email)
        expected = True
    except ValidationError:
        expected = False
    assert RowParser(org=in_org, allow_history=False)._valid_email(email) is expected


def test_each_row_of_a_repeated_website_gets_the_validators_answer(in_org):
    """The URL check is done once per address (RowParser._valid_website): every row still gets it."""
    parser = RowParser(org=in_org, allow_history=False)
    rows = [
        parser.parse({"company": f"Acme {n}", "website": website})
        for n, website in enumerate(["acme.example", "acme.example", "not a site", "not a site", "http://"])
    ]
    assert [row.values.get("website") for row in rows[:2]] == ["http://acme.example"] * 2
    assert [set(row.errors) for row in rows] == [set(), set(), {"website"}, {"website"}, {"website"}]
    assert [row.errors["website"] for row in rows[2:4]] == [["“not a site” is not a web address."]] * 2


def test_values_beyond_the_columns_limits_are_errors_not_crashes(in_org):
    row = RowParser(org=in_org, allow_history=False).parse(
        {
            "company": "x" * 201,
            "email": "a" * 250 + "@example.com",
            "employees": "3000000000",
            "expected_amount": "99999999999999999999",
            "notes": "a\x00b",
        }
    )
    assert set(row.errors) == {"company", "email", "employees", "expected_amount", "notes"}
