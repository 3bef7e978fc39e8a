"""Reliability matrix rows I3 and I5 (../shared/docs/reliability.md §2).

I3: LeadTrack has no rich text. Free text (lead notes, activity subjects and bodies, stage reasons,
change history, report notes) becomes HTML only through Django's autoescaping and the
``linebreaksbr`` / ``linebreaks`` filters. The property: whatever a person types, the HTML those
templates produce, parsed with html.parser, holds no ``<script>``, no ``on*=`` attribute and no
``javascript:`` URL, and the text reads back as typed.

I5: the CSV/XLSX importer under hostile files: random bytes, BOMs, a 10 MB cell, a million rows,
zip bombs (honest and lying about their size), a zip that is not a workbook, broken XML. No 500;
a refused file is a 400 that says why, with nothing stored; time and memory are reported.
"""

from __future__ import annotations

import codecs
import io
import random
import re
import struct
import threading
import time
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import psutil
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import normalize_newlines
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from funnel.models import StageTransition
from leads.imports.parsing import ImportFileError, read_table
from leads.imports.services import import_job_run_step, import_job_set_mapping, import_job_start
from leads.models import Activity, ImportJob, Lead, LeadChange
from leadtrack.tenancy.context import tenant_context

# --- I3 ------------------------------------------------------------------------------------------

# Pieces a hostile note is made of, mixed with arbitrary text by hypothesis.
HOSTILE_PIECES = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js>", "<scr", "ipt>", "</script>",
    "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>", "<body onload=alert(1)>",
    '"><a href="javascript:alert(1)">x</a>', "<a href='jav&#x09;ascript:alert(1)'>", "javascript:",
    "JaVaScRiPt:alert(1)", " onclick=alert(1) ", "onmouseover=", "&lt;script&gt;", "&#60;script&#62;",
    "&#x3C;script", "<!--", "-->", "<![CDATA[", "]]>", "</div>", "</dd>", "</textarea>", "<br>",
    "<", ">", '"', "'", "`", "&", "&amp;", "=", "\n", "\r\n", "\r", "\n\n", "\t", "\x00", "\u2028",
    "http://x.example/?q=<b>", "www.example.com", "<iframe src=javascript:alert(1)>",
    "<style>@import 'x'</style>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]  # fmt: skip
# Hostile pieces around arbitrary text (a flat shape: hypothesis draws it three times faster than a
# list of alternatives, and the 10,000 examples stay within seconds).
_pieces = st.lists(st.sampled_from(HOSTILE_PIECES), max_size=5).map("".join)
note_texts = st.tuples(_pieces, st.text(max_size=16), _pieces).map("".join).filter(bool)

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NOW = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)


class _Html(HTMLParser):
    """Tags, attributes and the text a browser would show (``<br>`` read back as a newline)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        if tag == "br":
            self.text.append("\n")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def _scripted(html: str) -> _Html:
    """Parse ``html`` and assert the I3 property on it."""
    parsed = _Html()
    parsed.feed(html)
    parsed.close()
    assert "script" not in parsed.tags, html
    for name, value in parsed.attributes:
        assert not name.startswith("on"), html
        # Browsers drop whitespace and control characters before reading a URL's scheme.
        scheme = re.sub(r"[\x00-\x20]", "", value).lower()
        assert not scheme.startswith("javascript:"), html
    return parsed


def _expression(template: str, variable: str) -> str:
    """The exact ``{{ variable|filters }}`` expression a template renders ``variable`` with, so a
    ``|safe`` added to the template makes this test fail."""
    source = (TEMPLATES / template).read_text()
    [found] = re.findall(r"\{\{\s*" + re.escape(variable) + r"(?:\|[^}]*)?\}\}", source)
    return found


def test_i3_free_text_never_becomes_script_handlers_or_javascript_urls():
    """≥10,000 generated notes through every place free text turns into HTML; the timeline fragment
    is rendered whole, the lead page's notes and the report's notes through the templates' own
    expressions."""
    notes_on_lead_page = Template(_expression("leads/detail.html", "lead.notes"))
    report_notes = Template(_expression("reports/quarterly/report.html", "report.notes.recommendations"))
    assert "linebreaksbr" in notes_on_lead_page.source
    examples = {"timeline": 0, "notes": 0}

    @hypothesis_settings(max_examples=5_000, deadline=None, database=None)
    @given(text=note_texts)
    def timeline(text):
        activity = Activity(kind="note", occurred_at=NOW, subject=text, body=text, url=text, utm_source=text)
        transition = StageTransition(from_stage="opportunity", to_stage="lost", at=NOW, reason=text)
        change = LeadChange(changed_at=NOW, changes={"notes": [text, text[::-1]], "company": [None, text]})
        html = render_to_string(
            "leads/_timeline.html",
            {"timeline": [("activity", activity), ("transition", transition), ("change", change)]},
        )
        parsed = _scripted(html)
        assert set(parsed.tags) <= {"h2", "ol", "li", "div", "strong", "br", "ul", "del", "ins", "time"}
        body = html.split('<div class="tl-body">', 1)[1].split("</div>", 1)[0]
        assert "".join(_scripted(body).text) == normalize_newlines(text)
        examples["timeline"] += 1

    @hypothesis_settings(max_examples=5_000, deadline=None, database=None)
    @given(text=note_texts)
    def notes(text):
        html = notes_on_lead_page.render(Context({"lead": {"notes": text}}))
        parsed = _scripted(html)
        assert set(parsed.tags) <= {"br"}
        assert "".join(parsed.text) == normalize_newlines(text)
        paragraphs = _scripted(report_notes.render(Context({"report": {"notes": {"recommendations": text}}})))
        assert set(paragraphs.tags) <= {"p", "br"}
        examples["notes"] += 1

    timeline()
    notes()
    total = sum(examples.values())
    assert total >= 10_000
    print(
        f"\n[I3] examples={total:,} (timeline {examples['timeline']:,}, lead/report notes "
        f"{examples['notes']:,}); <script> tags=0, on*= attributes=0, javascript: URLs=0"
    )


# --- I5 ------------------------------------------------------------------------------------------

GOOD_CSV = "Company,Email\r\nAcme,ann@acme.example\r\nBeta,bo@beta.example\r\n"
BOMS = {"utf-8-sig": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
figures = {"cases": 0, "refused": 0, "max_seconds": 0.0, "max_rss_growth": 0, "partial_imports": 0}


def _measured(work):
    """(result, seconds, peak RSS growth in bytes) of ``work()``; RSS is sampled every 5 ms."""
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample():
        while not done.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    figures["max_seconds"] = max(figures["max_seconds"], seconds)
    figures["max_rss_growth"] = max(figures["max_rss_growth"], peak[0] - start_rss)
    return result, seconds, peak[0] - start_rss


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_XLSX = _xlsx([["Company", "Email"], ["Acme", "ann@acme.example"], ["Beta", "bo@beta.example"]])


def _rewrite_sheet(content: bytes, change) -> bytes:
    """The workbook with its first sheet's XML replaced by ``change(xml)``."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(info.filename, data)
    return out.getvalue()


def _lying_zip_bomb() -> bytes:
    """50 MB of sheet XML that the central directory declares as 1 KB: the size check passes, so
    the reader must stop at the declared size on its own."""
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    content = _rewrite_sheet(GOOD_XLSX, lambda xml: head + b"<row>" + b" " * (50 * 1024 * 1024))
    archive = zipfile.ZipFile(io.BytesIO(content))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(content)
    directory = data.index(b"PK\x01\x02")
    while True:  # the central directory entry of the sheet
        name_length = struct.unpack("<H", data[directory + 28 : directory + 30])[0]
        if data[directory + 46 : directory + 46 + name_length] == info.filename.encode():
            break
        directory = data.index(b"PK\x01\x02", directory + 4)
    data[directory + 24 : directory + 28] = struct.pack("<I", 1024)
    assert len(data) < 1024 * 1024
    return bytes(data)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (400 * 1024 * 1024))
    return buffer.getvalue()


def _not_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "a zip, but not a workbook")
    return buffer.getvalue()


def _broken_xml_in_row_3() -> bytes:
    def change(xml: bytes) -> bytes:
        cut = xml.index(b'<row r="3"')
        return xml[:cut] + b'<row r="3"><c r="A3" t="inlineStr"><is><t>oops</t></is></c><<</sheetData>'

    return _rewrite_sheet(GOOD_XLSX, change)


def _entity_expansion() -> bytes:
    """A 'billion laughs' DTD in the sheet: the XML parser must refuse entities, not expand them."""
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    return _rewrite_sheet(GOOD_XLSX, lambda xml: laughs + b"]>" + xml.replace(b"Acme", b"&lol9;", 1))


def _zip_of_a_later_version() -> bytes:
    """A workbook whose central directory asks for zip version 8.0 to extract: Python's zipfile
    raises NotImplementedError, which a randomized run of the upload fuzz found as a 500."""
    data = bytearray(GOOD_XLSX)
    at = data.index(b"PK\x01\x02")  # the first central directory header
    data[at + 6] = 80  # "version needed to extract", in tenths
    return bytes(data)


def _big_cell_csv(row: int) -> bytes:
    rows = [["Acme", "ann@acme.example"], ["Beta", "bo@beta.example"], ["Gamma", "g@gamma.example"]]
    rows[row - 1][0] = "x" * (10 * 1024 * 1024)
    return ("Company,Email\r\n" + "".join(f"{a},{b}\r\n" for a, b in rows)).encode()


def _big_cell_xlsx() -> bytes:
    return _xlsx([["Company", "Notes"], ["Acme", "n" * 10 * 2**20]])


def _bom_csv(encoding: str) -> bytes:
    return (
        codecs.BOM_UTF8 + GOOD_CSV.encode()
        if encoding == "utf-8-sig"
        else BOMS[encoding] + GOOD_CSV.encode(encoding)
    )


# name → (file name, content builder, leads the file imports; None = the upload is refused).
# Built when the case runs: the bombs cost seconds to compress.
TARGETED = {
    "random bytes (.csv)": ("random.csv", lambda: random.Random(5).randbytes(64 * 1024), None),
    "random bytes (.xlsx)": ("random.xlsx", lambda: random.Random(6).randbytes(64 * 1024), None),
    "BOM utf-8": ("utf8.csv", lambda: _bom_csv("utf-8-sig"), 2),
    "BOM utf-16-le": ("utf16le.csv", lambda: _bom_csv("utf-16-le"), 2),
    "BOM utf-16-be": ("utf16be.csv", lambda: _bom_csv("utf-16-be"), 2),
    "BOM only": ("bom.csv", lambda: codecs.BOM_UTF8, None),
    "10 MB cell in row 1": ("big1.csv", lambda: _big_cell_csv(1), None),
    "10 MB cell in row 3": ("big3.csv", lambda: _big_cell_csv(3), None),
    "10 MB cell in an xlsx": (
        "big.xlsx",
        lambda: _xlsx([["Company", "Notes"], ["Acme", "n" * 10 * 2**20]]),
        0,
    ),
    "zip bomb (400 MB declared)": ("bomb.xlsx", _zip_bomb, None),
    "zip bomb lying about its size": ("liar.xlsx", _lying_zip_bomb, None),
    "zip that is not a workbook": ("other.xlsx", _not_a_workbook, None),
    "zip needing a later zip version": ("later.xlsx", _zip_of_a_later_version, None),
    "malformed XML in row 3": ("broken.xlsx", _broken_xml_in_row_3, None),
    "truncated workbook": ("cut.xlsx", lambda: GOOD_XLSX[: len(GOOD_XLSX) // 2], None),
    "entity expansion": ("lol.xlsx", _entity_expansion, None),
    "valid workbook": ("good.xlsx", lambda: GOOD_XLSX, 2),
}


def _upload(client, org, file_name: str, content: bytes):
    url = reverse("lead_import", kwargs={"org_slug": org.slug})
    return client.post(url, {"file": SimpleUploadedFile(file_name, content)})


def _import_through_the_pages(client, org, mike, file_name: str, content: bytes) -> tuple[int, int | None]:
    """Upload, mapping page, preview, run: (status of the upload, leads imported or None if refused).
    Every page must answer below 500; a refused upload must store nothing."""
    with tenant_context(org):
        jobs, leads = ImportJob.objects.count(), Lead.objects.count()
    response = _upload(client, org, file_name, content)
    assert response.status_code in (302, 400), response.status_code
    with tenant_context(org):
        if response.status_code == 400:
            assert response.context["form"].errors["file"]
            figures["refused"] += 1
            figures["partial_imports"] += (ImportJob.objects.count() - jobs) + (Lead.objects.count() - leads)
            return 400, None
        job = ImportJob.objects.order_by("-pk").first()
    for page in ("lead_import_mapping", "lead_import_preview"):
        answer = client.get(reverse(page, kwargs={"org_slug": org.slug, "job_id": job.pk}))
        assert answer.status_code == 200, (page, answer.status_code)
    with tenant_context(org):
        mapping = {int(index): target for index, target in job.mapping.items()}
        import_job_set_mapping(
            org=org, job_id=job.pk, mapping=mapping, on_existing="skip", allow_history=False
        )
        import_job_start(org=org, job_id=job.pk)
        while import_job_run_step(org=org, job_id=job.pk):
            pass
        job.refresh_from_db()
        imported = Lead.objects.count() - leads
        if job.status != ImportJob.Status.DONE:
            figures["partial_imports"] += imported
        assert job.status == ImportJob.Status.DONE, job.failure
    return 302, imported


@pytest.fixture
def importer(org, mike, login):
    client = login(mike)
    client.raise_request_exception = False  # a 500 must show as a status, not as an exception here
    # The first request of a process pays for URL and template loading: not part of any file's cost.
    assert client.get(reverse("lead_import", kwargs={"org_slug": org.slug})).status_code == 200
    return client


@pytest.mark.parametrize("case", list(TARGETED))
def test_i5_hostile_files_are_refused_with_a_400_or_imported_whole(importer, org, mike, case):
    file_name, build, expected = TARGETED[case]
    content = build()
    (status, imported), seconds, growth = _measured(
        lambda: _import_through_the_pages(importer, org, mike, file_name, content)
    )
    figures["cases"] += 1
    print(f"\n[I5] {case}: HTTP {status}, imported={imported}, {seconds:.2f} s, RSS +{growth / 2**20:.0f} MB")
    assert imported == expected
    # The importer bounds what a file may inflate to (MAX_XLSX_UNCOMPRESSED_BYTES, the csv cell limit):
    # no file may cost the web process more than that.
    assert growth < 300 * 1024 * 1024


def _mutated(content: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(content)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data[:cut] if cut else data)


csv_alphabet = st.sampled_from([*',;\t|"\r\n\x00ab=+-@é\ufeff\u2028', "Company", "Email", "x@y.z"])
hostile_files = st.one_of(
    st.tuples(st.sampled_from(["f.csv", "f.xlsx", "f.txt", "f.xls"]), st.binary(max_size=600)),
    st.tuples(
        st.just("bom.csv"),
        st.builds(
            lambda bom, text: (
                BOMS[bom] + text.encode("utf-8" if bom == "utf-8-sig" else bom, "surrogatepass")
            ),
            st.sampled_from(sorted(BOMS)),
            st.lists(csv_alphabet, max_size=40).map("".join),
        ),
    ),
    st.tuples(st.just("f.csv"), st.lists(csv_alphabet, max_size=60).map("".join).map(str.encode)),
    st.tuples(
        st.just("f.xlsx"),
        st.builds(
            _mutated,
            st.just(GOOD_XLSX),
            st.lists(st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.integers(0, 255)), max_size=4),
            st.one_of(st.none(), st.integers(1, len(GOOD_XLSX))),
        ),
    ),
)


def test_i5_the_parser_refuses_or_reads_any_bytes_whole(in_org):
    """Parser level, many examples: read_table either refuses with ImportFileError or returns a table
    every row of which can then be read and parsed; nothing else escapes."""
    from leads.imports.mapping import suggest_mapping
    from leads.imports.parsing import RowParser

    parser = RowParser(org=in_org, allow_history=True)
    seen = {"accepted": 0, "refused": 0}

    @hypothesis_settings(max_examples=1_500, deadline=None, database=None)
    @given(upload=hostile_files)
    def check(upload):
        file_name, content = upload
        try:
            table = read_table(file_name=file_name, content=content)
        except ImportFileError as exc:
            assert str(exc)
            seen["refused"] += 1
            return
        mapping = suggest_mapping(table.headers)
        for _, record, _ in table.records(mapping):
            parser.parse(record)
        seen["accepted"] += 1

    check()
    accepted, refused = seen["accepted"], seen["refused"]
    print(f"\n[I5] parser fuzz examples={accepted + refused:,} (accepted {accepted:,}, refused {refused:,})")


# Derandomized, as the schema fuzz: the same 60 files on every run, so a CI failure reproduces.
# Randomized runs found two NUL cases (fixed); the parser fuzz above explores with fresh seeds.
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(upload=hostile_files)
def test_i5_fuzzed_uploads_never_500_and_never_import_part_of_a_refused_file(importer, org, mike, upload):
    file_name, content = upload
    _measured(lambda: _import_through_the_pages(importer, org, mike, file_name, content))
    figures["cases"] += 1


def test_i5_a_million_rows_are_read_with_bounded_memory(importer, org, mike):
    """10^6 rows (about 10 MB) through the upload page: the whole file is read once at upload."""
    content = ("Company\r\n" + "".join(f"C{n}\r\n" for n in range(1_000_000))).encode()
    table, parse_seconds, parse_growth = _measured(lambda: read_table(file_name="m.csv", content=content))
    rows, count_seconds, _ = _measured(lambda: sum(1 for _ in table.rows()))
    assert rows == 1_000_000
    response, upload_seconds, upload_growth = _measured(lambda: _upload(importer, org, "m.csv", content))
    assert response.status_code == 302
    figures["cases"] += 1
    print(
        f"\n[I5] 10^6 rows ({len(content) / 2**20:.1f} MB): read_table {parse_seconds:.1f} s "
        f"(RSS +{parse_growth / 2**20:.0f} MB), row pass {count_seconds:.1f} s, upload page "
        f"{upload_seconds:.1f} s (RSS +{upload_growth / 2**20:.0f} MB)"
    )
    assert max(parse_growth, upload_growth) < 300 * 1024 * 1024


def test_i5_zz_figures():
    """Runs after the I5 tests of this module: the row's figures."""
    assert figures["partial_imports"] == 0
    print(
        f"\n[I5] files tried={figures['cases']:,} through the pages, "
        f"refused with 400={figures['refused']:,}, "
        f"HTTP 500=0, max RSS growth={figures['max_rss_growth'] / 2**20:.0f} MB, "
        f"max seconds={figures['max_seconds']:.2f}, partial imports={figures['partial_imports']}"
    )
