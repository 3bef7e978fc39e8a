"""The monthly chart of the page as SVG geometry (drawn by the template, no script needed)."""

from __future__ import annotations

import math
from typing import Any

from reports.quarterly.exports import CHART_SERIES

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36


def _nice_ceiling(value: int) -> int:
    if value <= 0:
        return 10
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude) if step * magnitude >= 10 else 10
    return int(10 * magnitude)


def monthly_chart(report: dict[str, Any]) -> dict[str, Any]:
    """Grouped bars (leads, MQLs, SQLs, opportunities) per month, with the y axis' ticks."""
    months = report["monthly"]
    top = _nice_ceiling(
        max((month[measure] for month in months for measure, _, _ in CHART_SERIES), default=0)
    )
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_width = plot_width / max(len(months), 1)
    bar_width = group_width * 0.8 / len(CHART_SERIES)
    groups = []
    for index, month in enumerate(months):
        x0 = LEFT + index * group_width + group_width * 0.1
        bars = []
        for series, (measure, label, _) in enumerate(CHART_SERIES):
            height = plot_height * month[measure] / top
            bars.append(
                {
                    "measure": measure,
                    "label": label,
                    "value": month[measure],
                    "x": round(x0 + series * bar_width, 1),
                    "y": round(TOP + plot_height - height, 1),
                    "width": round(bar_width - 2, 1),
                    "height": round(height, 1),
                    "text_x": round(x0 + series * bar_width + (bar_width - 2) / 2, 1),
                    "text_y": round(TOP + plot_height - height - 3, 1),
                }
            )
        groups.append({"label": month["label"], "x": round(x0 + group_width * 0.4, 1), "bars": bars})
    ticks = [
        {"value": top * step // 4, "y": round(TOP + plot_height - plot_height * step / 4, 1)}
        for step in range(5)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "axis_y": TOP + plot_height,
        "label_y": HEIGHT - 12,
        "groups": groups,
        "ticks": ticks,
        "series": [{"measure": measure, "label": label} for measure, label, _ in CHART_SERIES],
    }
