"""Start a real Celery worker or beat for the reliability tests, with per-test configuration.

``LT_CELERY_CONF`` (JSON) is applied over the settings' Celery configuration, so a test can
lower the broker transport options or give beat a short test schedule without touching the
product settings. The beat schedule's entries may name ``finite_ticks`` as
``{"finite_ticks": {"start": …, "every": …, "count": …}}``.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> None:
    from leadtrack.celery import app
    from tests.reliability import celery_support

    overrides = json.loads(os.environ.get("LT_CELERY_CONF", "{}"))
    for entry in overrides.get("beat_schedule", {}).values():
        if isinstance(entry.get("schedule"), dict):
            entry["schedule"] = celery_support.finite_ticks(**entry["schedule"]["finite_ticks"])
    app.conf.update(overrides)
    app.start(argv=argv)


if __name__ == "__main__":
    main(sys.argv[1:])
