"""Stored-XSS sweep (matrix row I1): payloads, and a helper that renders pages in Chromium and counts
what a payload managed to do.

Usage from any browser test (the ``page`` fixture of tests/e2e/conftest.py):

    from tests.e2e.xss import PAYLOADS, XssSweep
    sweep = XssSweep(page)              # before the first page.goto
    ... store PAYLOADS in the fields under test (API, portal, forms, services) ...
    sweep.visit("/o/acme/leads/", expect_text=PAYLOADS[:10])
    report = sweep.report("I1 leads")   # prints "[I1 leads] payloads=… pages=… dialogs=0 …"
    assert report.clean

What counts as a failure on a page:
- a JavaScript dialog (alert/confirm/prompt) or a call to ``__xssHit`` (payloads call both);
- a Content-Security-Policy violation: the CSP blocked markup a payload injected, so output
  encoding failed even though the CSP held;
- an element carrying an inline event handler, an inline <script> body or an ``srcdoc``
  iframe in the DOM (our templates have none: tests/reliability/test_static_checks.py);
- an expected payload whose first 24 characters are not visible as text (swallowed as markup).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# ~50 payloads: tag injection, attribute break-outs, URL schemes, parser confusion, template
# syntax of other engines, CSV formulas. Every executing one calls alert() or __xssHit().
PAYLOADS: list[str] = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "<svg onload=alert('xss-3')>",
    "<svg><script>alert('xss-4')</script></svg>",
    '"><script>alert("xss-5")</script>',
    "'><img src=x onerror=alert('xss-6')>",
    '" onmouseover="alert(\'xss-7\')" x="',
    "' onfocus='alert(7)' autofocus='",
    "</title><script>alert('xss-9')</script>",
    "</textarea><script>alert('xss-10')</script>",
    "</script><script>alert('xss-11')</script>",
    "<scr<script>ipt>alert('xss-12')</scr</script>ipt>",
    "<body onload=alert('xss-13')>",
    "<iframe srcdoc=\"<script>parent.__xssHit('xss-14')</script>\"></iframe>",
    "<iframe src=\"javascript:alert('xss-15')\"></iframe>",
    "<a href=\"javascript:alert('xss-16')\">click me</a>",
    "<details open ontoggle=alert('xss-17')>",
    "<input autofocus onfocus=alert('xss-18')>",
    "<select autofocus onfocus=alert('xss-19')></select>",
    "<textarea autofocus onfocus=alert('xss-20')></textarea>",
    "<video><source onerror=alert('xss-21')></video>",
    "<audio src=x onerror=alert('xss-22')>",
    "<object data=\"javascript:alert('xss-23')\"></object>",
    "<embed src=\"javascript:alert('xss-24')\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss-25')>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('xss-26')>\">",
    "<!--<img src=\"--><img src=x onerror=alert('xss-27')//\">",
    "<marquee onstart=alert('xss-28')>x</marquee>",
    "<form><button formaction=\"javascript:alert('xss-29')\">go</button></form>",
    '<base href="//evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'xss-31\')">',
    '<link rel=stylesheet href="//evil.example/x.css">',
    "<style>body{background:url(\"javascript:alert('xss-33')\")}</style>",
    "<div style=\"background-image:url(javascript:alert('xss-34'))\">styled</div>",
    "<img src=x:alert(alt) onerror=eval(src) alt='xss-35'>",
    "<x onclick=alert('xss-36')>click</x>",
    "<img src=\"x` `<script>alert('xss-37')</script>\"` `>",
    "';alert('xss-38');//",
    '";alert("xss-39");//',
    "javascript:alert('xss-40')",
    "&lt;script&gt;alert('xss-41')&lt;/script&gt;",
    "%3Cscript%3Ealert('xss-42')%3C%2Fscript%3E",
    "{{ 7*7 }}{% debug %}<img src=x onerror=__xssHit('xss-43')>",
    "${alert('xss-44')}#{alert(44)}",
    '=HYPERLINK("http://evil.example","xss-45")',
    "+cmd|' /C calc'!A0 <img src=x onerror=alert('xss-46')>",
    "<svg><animate onbegin=alert('xss-47') attributeName=x dur=1s>",
    "<img srcset=\",,,,,x\" onerror=alert('xss-48')>",
    "\u202e<img src=x onerror=alert('xss-49')>\u202d",
    "<template><img src=x onerror=alert('xss-50')></template><img src=x onerror=__xssHit('xss-50b')>",
]

PROBES = """
window.__xssHits = [];
window.__xssHit = (label) => window.__xssHits.push(String(label));
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI || 'inline'} ${e.sample || ''}`));
"""
INJECTED_ELEMENTS = """
() => Array.from(document.querySelectorAll('*')).filter((el) =>
  Array.from(el.attributes).some((a) => /^on/i.test(a.name)) ||
  (el.tagName === 'SCRIPT' && !el.src && el.textContent.trim()) ||
  (el.tagName === 'IFRAME' && el.hasAttribute('srcdoc')) ||
  (el.tagName === 'BASE') || (el.tagName === 'META' && el.httpEquiv)
).map((el) => el.outerHTML.slice(0, 120))
"""


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class PageFinding:
    url: str
    dialogs: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    not_visible: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.dialogs or self.hits or self.csp or self.injected or self.not_visible)


@dataclass
class SweepReport:
    label: str
    payloads: int
    pages: list[PageFinding]

    def _total(self, name: str) -> int:
        return sum(len(getattr(p, name)) for p in self.pages)

    @property
    def clean(self) -> bool:
        return all(p.clean for p in self.pages)

    def line(self) -> str:
        return (
            f"[{self.label}] payloads={self.payloads} pages={len(self.pages)} "
            f"dialogs={self._total('dialogs')} script_executions={self._total('hits')} "
            f"csp_violations={self._total('csp')} injected_elements={self._total('injected')} "
            f"not_visible_as_text={self._total('not_visible')}"
        )

    def failures(self) -> list[PageFinding]:
        return [p for p in self.pages if not p.clean]


class XssSweep:
    """Attach before the first navigation; then ``visit`` each page that shows stored payloads."""

    def __init__(self, page):
        self.page = page
        self.pages: list[PageFinding] = []
        self.payloads: set[str] = set()
        self._console: list[str] = []
        page.add_init_script(PROBES)
        page.on("console", self._on_console)
        if not hasattr(page, "dialogs"):
            page.dialogs = []
            page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self._console.append(message.text[:200])

    def visit(self, url: str, *, expect_text: Iterable[str] = ()) -> PageFinding:
        dialogs_before, console_before = len(self.page.dialogs), len(self._console)
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        # Give autofocus/ontoggle/animation payloads their chance to fire.
        self.page.wait_for_timeout(150)
        finding = PageFinding(url=url)
        finding.dialogs = self.page.dialogs[dialogs_before:]
        finding.hits = self.page.evaluate("window.__xssHits")
        finding.csp = self.page.evaluate("window.__cspViolations") + self._console[console_before:]
        finding.injected = self.page.evaluate(INJECTED_ELEMENTS)
        body = _normalize(self.page.inner_text("body"))
        expected = list(expect_text)
        self.payloads.update(expected)
        # A prefix: list pages may shorten long values, which is not a failure of encoding.
        finding.not_visible = [text for text in expected if _normalize(text)[:24] not in body]
        self.pages.append(finding)
        return finding

    def report(self, label: str) -> SweepReport:
        report = SweepReport(label=label, payloads=len(self.payloads), pages=self.pages)
        print(f"\n{report.line()}")
        return report
