"""The registry's helpers that every holder uses to leave no identifier behind."""

from __future__ import annotations

from leadtrack.privacy.registry import REDACTED, Subject, redact_json, scrub_text


def _subject(org) -> Subject:
    return Subject(
        organization=org,
        email="jane@x.example",
        lead_ids=frozenset({7}),
        identifiers=frozenset({"jane@x.example", "jane roe"}),
    )


def test_scrub_text_replaces_identifiers_whatever_their_case():
    text = "Call JANE ROE (Jane@X.example) back"
    assert scrub_text(text, {"jane@x.example", "jane roe"}) == f"Call {REDACTED} ({REDACTED}) back"
    assert scrub_text("nothing here", {"jane roe"}) == "nothing here"


def test_redact_json_keeps_structure_and_ids(org):
    payload = {
        "lead": {"id": 7, "email": "jane@x.example", "company": "Initech", "phone": "", "stage": "mql"},
        "changes": {"notes": ["old", "new"], "company": ["Jane Roe Ltd", "Initech"]},
        "via": "api",
    }
    assert redact_json(payload, _subject(org)) == {
        "lead": {"id": 7, "email": REDACTED, "company": "Initech", "phone": "", "stage": "mql"},
        "changes": {"notes": REDACTED, "company": [REDACTED, "Initech"]},
        "via": "api",
    }
