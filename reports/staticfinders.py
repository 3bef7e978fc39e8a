"""Serve the chart library from the installed ``plotly`` Python package: no CDN, no copied asset.

Only ``plotly.min.js`` is exposed (as ``vendor/plotly/plotly.min.js``), not the
package's other data files.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# Located, not imported: importing plotly would load its Python API into every web process.
PLOTLY_DIR = Path(find_spec("plotly").origin).resolve().parent / "package_data"
PLOTLY_FILE = "plotly.min.js"
PREFIX = "vendor/plotly"
STATIC_PATH = f"{PREFIX}/{PLOTLY_FILE}"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_DIR))
        self.storage.prefix = PREFIX

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != STATIC_PATH:
            return [] if (find_all or kwargs.get("all")) else None
        found = str(PLOTLY_DIR / PLOTLY_FILE)
        return [found] if (find_all or kwargs.get("all")) else found

    def list(self, ignore_patterns):
        yield PLOTLY_FILE, self.storage
