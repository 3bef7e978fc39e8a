"""A CycloneDX 1.5 SBOM of the installed environment (ASVS 15.1.2), with no extra dependency.

Components are the distributions importlib.metadata sees in this interpreter, each with
its purl (pkg:pypi/<name>@<version>) and, when requirements.lock pins it, the lock's
sha256 hashes (the artifacts ``pip install --require-hashes`` accepts). Freshness
(``pip list --outdated``) needs the package index: `make outdated` prints it where the
network allows; it is a report, not a gate.

    python -m leadtrack.sbom --output var/sbom.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def normalize(name: str) -> str:
    """PEP 503 name: the same package however the lock or its metadata spells it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Locked:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)


def lock_read(*, path: Path = LOCK) -> dict[str, Locked]:
    """The lock's pins by normalized name, each with its sha256 hashes (pip-compile format)."""
    pins: dict[str, Locked] = {}
    current: Locked | None = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if match := _PIN.match(line):
            current = Locked(name=match.group(1), version=match.group(2))
            pins[normalize(current.name)] = current
        elif current is not None and stripped.startswith("--hash="):
            current.hashes += _HASH.findall(stripped)
        elif not line.startswith(" "):
            current = None
    return pins


def sbom_build(*, lock_path: Path = LOCK) -> dict[str, Any]:
    """The CycloneDX 1.5 document (a dict ready for json.dumps)."""
    locked = lock_read(path=lock_path)
    components: dict[str, dict[str, Any]] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if not name:
            continue
        key = normalize(name)
        version = distribution.version
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": f"pkg:pypi/{key}@{version}",
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{key}@{version}",
        }
        pin = locked.get(key)
        if pin is not None and pin.version == version:
            component["hashes"] = [{"alg": "SHA-256", "content": digest} for digest in pin.hashes]
        if licence := distribution.metadata.get("License-Expression") or "":
            component["licenses"] = [{"expression": licence}]
        components.setdefault(key, component)  # the first on sys.path wins, as for imports
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "component": {"type": "application", "name": "leadtrack", "bom-ref": "leadtrack"},
            "tools": {"components": [{"type": "application", "name": "leadtrack.sbom"}]},
        },
        "components": [components[key] for key in sorted(components)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--lock", type=Path, default=LOCK)
    options = parser.parse_args(argv)
    document = sbom_build(lock_path=options.lock)
    text = json.dumps(document, indent=2) + "\n"
    if options.output is None:
        sys.stdout.write(text)
    else:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
        print(f"SBOM: {options.output} ({len(document['components'])} components)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
