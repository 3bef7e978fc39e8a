"""S1 static checks, D16 migrations, and a static guard for the strict CSP.

S1 (DjangoCRM/django-crm#400, Kuldeeep18/LeadOrbit#595): no `fields = "__all__"`,
no `django.test` imports in shipped code, no tenant `Model.objects` evaluated at
import time (it raises with no organization active, or worse, would cache one
tenant's rows), and ruff (which includes bandit's `S` rules) clean.
CSP guard: `script-src 'self'` and `style-src 'self'` block inline code, so a
template with an inline <script>/<style> body, an on*= handler or a style=
attribute is either broken under the CSP or a hole waiting to be opened.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from leadtrack.tenancy.db import tenant_models

ROOT = Path(__file__).resolve().parents[2]


def _shipped_packages() -> list[Path]:
    """The packages pyproject installs: the code that runs in production."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({ROOT / p.rstrip("*") for p in patterns if (ROOT / p.rstrip("*")).is_dir()})


def _python_files() -> list[Path]:
    return [path for package in _shipped_packages() for path in package.rglob("*.py")]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_all_fields_in_serializers_or_forms():
    pattern = re.compile(r"""\bfields\s*=\s*["']__all__["']""")
    hits = [_rel(p) for p in _python_files() if pattern.search(p.read_text())]
    print(f"\n[S1] files={len(_python_files())} fields__all__={len(hits)}")
    assert hits == []


def test_no_test_framework_in_shipped_code():
    pattern = re.compile(r"^\s*(from|import)\s+django\.test\b", re.M)
    hits = [_rel(p) for p in _python_files() if pattern.search(p.read_text())]
    print(f"\n[S1] django.test imports outside tests/={len(hits)}")
    assert hits == []


class _ImportTimeObjects(ast.NodeVisitor):
    """`<TenantModel>.objects` in code that runs at import: module level and class bodies."""

    def __init__(self, names: set[str]):
        self.names = names
        self.hits: list[int] = []

    def visit_FunctionDef(self, node):  # bodies run later, inside a request or task
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in node.args.defaults + node.args.kw_defaults:
            if default is not None:
                self.visit(default)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    def visit_Attribute(self, node):
        if node.attr == "objects" and isinstance(node.value, ast.Name) and node.value.id in self.names:
            self.hits.append(node.lineno)
        self.generic_visit(node)


def test_no_tenant_manager_use_at_import_time():
    names = {model.__name__ for model in tenant_models()}
    hits = []
    for path in _python_files():
        if "migrations" in path.parts:
            continue
        visitor = _ImportTimeObjects(names)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        hits += [f"{_rel(path)}:{line}" for line in visitor.hits]
    print(f"\n[S1] tenant models={len(names)} import-time .objects={len(hits)} {hits}")
    assert hits == []


def test_ruff_is_clean():
    """ruff with the project's rules, bandit's security checks (`S`) included."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "json", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(result.stdout or "[]")
    by_rule: dict[str, int] = {}
    for finding in findings:
        by_rule[finding["code"]] = by_rule.get(finding["code"], 0) + 1
    security = sum(n for code, n in by_rule.items() if code and code.startswith("S"))
    print(f"\n[S1] ruff findings={len(findings)} security(S)={security} by_rule={by_rule}")
    assert findings == [], [f"{f['filename']}:{f['location']['row']} {f['code']}" for f in findings][:20]


def test_no_missing_migrations():
    """D16: the models and the migrations agree."""
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(f"\n[D16] makemigrations --check exit={result.returncode}")
    assert result.returncode == 0, result.stdout + result.stderr


def _templates() -> list[Path]:
    roots = [ROOT / "templates", *(p / "templates" for p in _shipped_packages())]
    roots += [p for package in _shipped_packages() for p in package.glob("*/templates")]
    return sorted({t for root in roots if root.is_dir() for t in root.rglob("*.html")})


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)
INLINE_STYLE_BLOCK = re.compile(r"<style\b[^>]*>\s*\S", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*?\son\w+\s*=", re.I | re.S)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*?\sstyle\s*=", re.I | re.S)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def test_templates_have_no_inline_code_for_the_csp():
    templates = _templates()
    found = {
        "inline_script": [],
        "inline_style": [],
        "event_handler": [],
        "style_attr": [],
        "javascript_url": [],
    }
    for template in templates:
        text = template.read_text()
        for kind, pattern in (
            ("inline_script", INLINE_SCRIPT),
            ("inline_style", INLINE_STYLE_BLOCK),
            ("event_handler", EVENT_HANDLER),
            ("style_attr", STYLE_ATTRIBUTE),
            ("javascript_url", JAVASCRIPT_URL),
        ):
            for match in pattern.finditer(text):
                found[kind].append(f"{_rel(template)}:{text.count(chr(10), 0, match.start()) + 1}")
    counts = " ".join(f"{kind}={len(hits)}" for kind, hits in found.items())
    print(f"\n[CSP] templates={len(templates)} {counts}")
    assert {kind: hits for kind, hits in found.items() if hits} == {}


# --- S3: hash-pinned lock file, installed with --require-hashes ---------------------------------


def _lock_requirements() -> list[str]:
    """The lock's requirement entries, continuation lines joined; comments and pip options left out."""
    entries: list[str] = []
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += " " + line.strip()
        elif line.startswith("--"):
            continue  # index options (--extra-index-url, --find-links)
        else:
            entries.append(line.strip())
    return entries


def test_lock_file_pins_every_package_with_a_hash():
    entries = _lock_requirements()
    pin = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s=<>!~*\\]+( |\\|$)")
    unpinned = [entry.split()[0] for entry in entries if not pin.match(entry)]
    unhashed = [entry.split()[0] for entry in entries if not re.search(r"--hash=sha256:[0-9a-f]{64}", entry)]
    print(f"\n[S3] locked={len(entries)} unpinned={len(unpinned)} without sha256={len(unhashed)}")
    assert entries
    assert unpinned == []
    assert unhashed == []


def test_makefile_installs_the_lock_with_require_hashes():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line.strip() for line in makefile.splitlines() if "-r requirements.lock" in line]
    hashed = sum("--require-hashes" in line for line in installs)
    print(f"\n[S3] lock installs={len(installs)} with --require-hashes={hashed}")
    assert installs
    assert all("pip install" in line and "--require-hashes" in line for line in installs)


# --- S2: SBOM of the installed environment ------------------------------------------------------


def test_sbom_lists_every_locked_package_at_its_locked_version(tmp_path):
    from leadtrack.sbom import lock_read, normalize

    output = tmp_path / "sbom.json"
    completed = subprocess.run(
        [sys.executable, "-m", "leadtrack.sbom", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.5"
    components = {normalize(c["name"]): c for c in document["components"]}
    locked = lock_read()
    # The lock as S3 reads it, independently of the SBOM's own parser.
    assert len(locked) == len(_lock_requirements())
    missing = sorted(name for name in locked if name not in components)
    wrong_version = sorted(
        f"{name} {components[name]['version']}!={pin.version}"
        for name, pin in locked.items()
        if name in components and components[name]["version"] != pin.version
    )
    without_hash = sorted(
        name
        for name, pin in locked.items()
        if name in components
        and {h["content"] for h in components[name].get("hashes", [])} != set(pin.hashes)
    )
    bad_purl = [
        c["name"]
        for c in components.values()
        if c["purl"] != f"pkg:pypi/{normalize(c['name'])}@{c['version']}"
    ]
    print(
        f"\n[S2] components={len(components)} locked={len(locked)} missing={len(missing)} "
        f"version_mismatches={len(wrong_version)} hash_mismatches={len(without_hash)} "
        "outdated=n/a (pip list --outdated needs the index: `make outdated`, a CI/manual report)"
    )
    assert missing == []
    assert wrong_version == []
    assert without_hash == []
    assert bad_purl == []
