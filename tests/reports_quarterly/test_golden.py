"""The Markdown export of the demo's Q2 2025 matches the committed, reviewed golden file.

Regenerate after an intended change with ``UPDATE_GOLDEN=1`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from leadtrack.tenancy.context import tenant_context
from reports.quarterly.exports import report_markdown
from reports.quarterly.selectors import Quarter, quarterly_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "robotix-2025-Q2.md"
# The quarter's end: nothing in the demo happens after 30 June 2025, so this is also today's report.
AS_OF = datetime(2025, 7, 1, tzinfo=ZoneInfo("America/New_York"))


def test_markdown_matches_golden(robotix):
    with tenant_context(robotix):
        markdown = report_markdown(quarterly_report(org=robotix, quarter=Quarter(2025, 2), as_of=AS_OF))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(markdown, encoding="utf-8")
    assert markdown == GOLDEN.read_text(encoding="utf-8")
