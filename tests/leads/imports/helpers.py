"""Files for import tests, generated in the test (real CRM exports live outside the repository)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"

SALESFORCE_HEADERS = [
    "Id", "FirstName", "LastName", "Company", "Email", "Phone", "Title", "Website", "Country", "Industry",
    "NumberOfEmployees", "LeadSource", "Status", "CreatedDate", "OwnerId",
]  # fmt: skip
# Row number (1 = first data row) → (column, bad value) of the three bad rows.
SALESFORCE_BAD_ROWS = {
    137: ("CreatedDate", "13/45/2024"),
    512: ("Country", "Atlantis"),
    888: ("Email", "not-an-email"),
}
_COUNTRIES = ["United States", "US", "Germany", "FR", "United Kingdom", "India", "Brazil", "JPN"]
_SOURCES = ["Web", "Partner Referral", "Trade Show", "Purchased List"]


def csv_bytes(headers: list[str], rows: list[list[object]], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def salesforce_rows(
    count: int, *, bad: dict[int, tuple[str, str]] | None = None, prefix: str = "sf"
) -> list[list[str]]:
    """Salesforce Lead-export-shaped rows: unique people, valid values, except the ``bad`` cells."""
    bad = SALESFORCE_BAD_ROWS if bad is None else bad
    rows = []
    for number in range(1, count + 1):
        row = {
            "Id": f"00Q{prefix}{number:08d}",
            "FirstName": f"Ann{number}",
            "LastName": f"Lee{number}",
            "Company": f"Company {number} Ltd",
            "Email": f"ann{number}@company{number}.example",
            "Phone": f"(555) 01{number:04d}",
            "Title": "VP Sales" if number % 2 else "CFO",
            "Website": f"www.company{number}.example",
            "Country": _COUNTRIES[number % len(_COUNTRIES)],
            "Industry": "Software" if number % 3 else "software",
            "NumberOfEmployees": str(10 * number),
            "LeadSource": _SOURCES[number % len(_SOURCES)],
            "Status": "Qualified" if number % 50 == 0 else "Open - Not Contacted",
            "CreatedDate": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}T10:00:00.000+0000",
            "OwnerId": "005Ec000004oBPNIA2",
        }
        if number in bad:
            column, value = bad[number]
            row[column] = value
        rows.append([row[h] for h in SALESFORCE_HEADERS])
    return rows


def salesforce_csv(count: int = 1000, **kwargs) -> bytes:
    return csv_bytes(SALESFORCE_HEADERS, salesforce_rows(count, **kwargs))
