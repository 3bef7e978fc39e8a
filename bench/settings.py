"""The product's settings plus the benchmark's reference views (bench/urls.py)."""

from leadtrack.settings import *  # noqa: F403
from leadtrack.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
