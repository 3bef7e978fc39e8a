"""One JSON object per log line, with the request's id, organization and principal (I7).

``json.dumps`` already turns CR, LF and every other C0 control character into an escape (``\\u000a``), so a
value cannot start a forged line. That is not enough for a person reading the *parsed* message
(``jq -r``, a log viewer): a real ESC would again drive their terminal. So control characters
(C0, DEL, C1, and the Unicode line/paragraph separators) in the message are first written as
visible escapes, and the parsed message shows ``\\x1b[31m`` instead of turning red.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from leadtrack.audit import context
from leadtrack.tenancy.context import current_organization_or_none

_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def escape_controls(text: str) -> str:
    """``text`` with every control character as a visible escape (``\\x0a``, ``\\x1b``, …)."""
    return text.translate(_CONTROL)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, organization_id, user_id, api_key_id (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = context.current()
        organization = current_organization_or_none()
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
            "request_id": ctx.request_id if ctx else None,
            "organization_id": organization.pk if organization else None,
            "user_id": ctx.user_id if ctx else None,
            "api_key_id": ctx.api_key_id if ctx else None,
        }
        if record.exc_info:
            # Tracebacks span lines by nature: kept as one escaped string in the same object.
            # (an exception's message may quote user input: its controls are escaped, its newlines kept).
            entry["exc"] = "\n".join(
                escape_controls(line) for line in self.formatException(record.exc_info).split("\n")
            )
        # ensure_ascii: non-ASCII (incl. C1 controls a terminal may obey) leaves escaped too (``\\u009b``).
        return json.dumps(entry, ensure_ascii=True, default=str)


class PlainFormatter(logging.Formatter):
    """Local development: the old text line, with the request id, and controls still escaped."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.request_id = context.current_request_id() or "-"
        record.message = escape_controls(record.message)
        return super().formatMessage(record)
