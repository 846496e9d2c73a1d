"""Failovers per endpoint over time, as data and as a small inline SVG.

One row of bars per endpoint that was failed over from: a row that lights
up is the endpoint causing trouble, and when. Rendered on the server so the
page needs no script and no external asset.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from markupsafe import Markup, escape

ROW_HEIGHT = 26
LABEL_WIDTH = 260
BAR_AREA = 480


def failover_series(
    failovers: Iterable[dict[str, Any]],
    *,
    window_s: float = 24 * 3600,
    buckets: int = 24,
    now: float | None = None,
) -> dict[str, Any]:
    """Count, per endpoint passed over, the failover events in each time bucket."""
    end = now if now is not None else time.time()
    start = end - window_s
    width = window_s / buckets
    series: dict[str, list[int]] = {}
    for event in failovers:
        if event.get("kind") != "failover" or not start <= event["ts"] <= end:
            continue
        slot = min(buckets - 1, int((event["ts"] - start) // width))
        for endpoint in (event.get("detail") or {}).get("fallback_from") or []:
            series.setdefault(endpoint, [0] * buckets)[slot] += 1
    return {
        "start": start,
        "end": end,
        "bucket_s": width,
        "series": dict(sorted(series.items())),
    }


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%m-%d %H:%M UTC")


def render_svg(data: dict[str, Any]) -> Markup:
    """The series as bars; every label is escaped, since endpoint names come from DAG code."""
    series: dict[str, list[int]] = data["series"]
    if not series:
        return Markup('<p class="muted" id="chart-empty">No failovers in this window.</p>')
    buckets = len(next(iter(series.values())))
    peak = max(max(counts) for counts in series.values()) or 1
    bar_w = BAR_AREA / buckets
    height = ROW_HEIGHT * len(series) + 24
    width = LABEL_WIDTH + BAR_AREA + 10
    parts = [
        f'<svg id="failover-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Failovers per endpoint over time">'
    ]
    for row, (endpoint, counts) in enumerate(series.items()):
        y = row * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end" class="label">'
            f"{escape(_shorten(endpoint))}<title>{escape(endpoint)}</title></text>"
        )
        parts.append(
            f'<line x1="{LABEL_WIDTH}" y1="{y + ROW_HEIGHT - 2}" x2="{LABEL_WIDTH + BAR_AREA}" '
            f'y2="{y + ROW_HEIGHT - 2}" class="axis"/>'
        )
        for slot, count in enumerate(counts):
            if not count:
                continue
            h = max(3.0, (ROW_HEIGHT - 6) * count / peak)
            x = LABEL_WIDTH + slot * bar_w + 1
            bucket_start = data["start"] + slot * data["bucket_s"]
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + ROW_HEIGHT - 2 - h:.1f}" '
                f'width="{max(1.0, bar_w - 2):.1f}" height="{h:.1f}">'
                f"<title>{escape(endpoint)}: {count} failover(s) from "
                f"{_stamp(bucket_start)}</title></rect>"
            )
    axis_y = ROW_HEIGHT * len(series) + 16
    parts.append(
        f'<text x="{LABEL_WIDTH}" y="{axis_y}" class="tick">{_stamp(data["start"])}</text>'
        f'<text x="{LABEL_WIDTH + BAR_AREA}" y="{axis_y}" text-anchor="end" class="tick">'
        f"{_stamp(data['end'])}</text></svg>"
    )
    return Markup("".join(parts))


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
