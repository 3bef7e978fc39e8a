"""I7: CR/LF and ANSI escapes in lead names and login usernames cannot forge or split log lines.

The production handler's formatter (settings.LOGGING "json") writes to a StringIO beside a
handler that counts records: every record must be exactly one line, each line one JSON object
whose message holds no control character once parsed (a terminal showing it stays inert).
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from leadtrack.api.services import api_key_create
from leadtrack.audit.logs import JsonFormatter, PlainFormatter
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead

EVIL_NAMES = [
    'Acme\r\n{"level": "INFO", "message": "admin logged in"}',
    "Red \x1b[31mALERT\x1b[0m \x1b[2J\x1b[H cleared",
    "Line\u2028separator\x85next-line\x7fdel\x9b31m",
]
EVIL_USERNAMES = [
    'mallory\r\n{"level": "INFO", "message": "login ok"}@example.com',
    "\x1b]0;owned\x07mallory\x1b[8m@example.com",
]
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _visible(text: str) -> str:
    return "".join(
        f"\\u{ord(ch):04x}" if ch in "\u2028\u2029" else f"\\x{ord(ch):02x}" if CONTROL.match(ch) else ch
        for ch in text
    )


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1


@pytest.fixture
def json_log() -> Iterator[tuple[io.StringIO, _Counter]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    counter = _Counter()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    root.addHandler(counter)
    try:
        yield stream, counter
    finally:
        root.removeHandler(handler)
        root.removeHandler(counter)
        root.setLevel(previous)


def _api(org) -> APIClient:
    with tenant_context(org):
        _, raw = api_key_create(org=org, actor=None, name="I7", scopes=("read", "write"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_evil_lead_names_and_usernames_give_one_escaped_json_line_per_event(json_log, org, mike, client):
    stream, counter = json_log
    api = _api(org)
    sent = []
    for number, name in enumerate(EVIL_NAMES):
        rid = f"i7-lead-{number:08d}"
        response = api.post("/api/v1/leads/", {"company": name}, format="json", HTTP_X_REQUEST_ID=rid)
        assert response.status_code == 201, response.json()
        sent.append((rid, name))
        lead_id = response.json()["id"]
        rid = f"i7-edit-{number:08d}"
        response = api.patch(
            f"/api/v1/leads/{lead_id}/", {"company": f"{name}\n2"}, format="json", HTTP_X_REQUEST_ID=rid
        )
        assert response.status_code == 200
        sent.append((rid, f"{name}\n2"))
    for number, username in enumerate(EVIL_USERNAMES):
        rid = f"i7-login-{number:08d}"
        response = client.post(
            "/accounts/login/", {"username": username, "password": "wrong"}, HTTP_X_REQUEST_ID=rid
        )
        assert response.status_code == 200
        sent.append((rid, username))

    lines = stream.getvalue().splitlines()
    parsed, unparseable = [], 0
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            unparseable += 1
    raw_controls = sum(bool(CONTROL.search(entry["message"])) for entry in parsed)
    raw_controls += sum(bool(CONTROL.search(line)) for line in lines)
    print(
        f"\n[I7] events={counter.records} log lines={len(lines)} unparseable={unparseable} "
        f"raw control characters={raw_controls}"
    )
    assert len(lines) == counter.records
    assert unparseable == 0 and raw_controls == 0

    by_request = {}
    for entry in parsed:
        if entry["logger"] == "leadtrack.audit":
            by_request.setdefault(entry["request_id"], []).append(entry)
    for rid, value in sent:
        (entry,) = by_request[rid]  # one audit line per action
        # The value is there, escaped, not dropped: \r → \x0d, \n → \x0a, ESC → \x1b.
        assert f'"{_visible(value)}"' in entry["message"], (entry["message"], value)
        assert set(entry) >= {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "organization_id",
            "user_id",
        }
        if rid.startswith("i7-login"):
            assert entry["level"] == "WARNING" and entry["organization_id"] is None
        else:
            assert entry["organization_id"] == org.pk and entry["api_key_id"] is not None


def test_a_traceback_stays_one_line(json_log, org):
    stream, counter = json_log
    lead = make_lead(org, company="Evil\r\nname")
    try:
        raise ValueError(f"bad lead {lead.company}\x1b[31m")
    except ValueError:
        logging.getLogger("tests.i7").exception("failed on %s", lead.company)
    line = stream.getvalue().splitlines()[-1]
    entry = json.loads(line)
    assert counter.records == len(stream.getvalue().splitlines())
    assert entry["message"] == "failed on Evil\\x0d\\x0aname"
    assert "Traceback" in entry["exc"] and "\\x1b[31m" in entry["exc"]
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", entry["exc"])


def test_the_plain_development_format_escapes_too(org):
    record = logging.LogRecord("tests.i7", logging.INFO, __file__, 1, "lead %s", ("A\r\nB\x1b[31m",), None)
    assert PlainFormatter().format(record).endswith("[-] lead A\\x0d\\x0aB\\x1b[31m")
