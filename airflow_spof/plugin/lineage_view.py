"""The lineage of fallbacks for one task instance, as data and as an SVG picture.

Sources tried (each with why it did not serve) -> the source that served ->
each replica written or lagging. Built from the task instance's failover and
replication reports, whichever of the event log or the task's XCom has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

BOX_W, BOX_H, GAP_X, GAP_Y = 250, 46, 90, 14
LABEL_CHARS = 32  # 12 px monospace is ~7.2 px a character: 32 fill the box's 234 px
REASON_CHARS = 36
COLOURS = {
    "failed": "#fde2e1",
    "skipped": "#eeeeee",
    "served": "#d9f2dd",
    "written": "#d9f2dd",
    "lagging": "#fff1c9",
}


def _reason(attempt: dict[str, Any]) -> str:
    kind = attempt.get("error_class") or attempt.get("outcome") or ""
    message = attempt.get("message") or ""
    return f"{kind}: {message}".strip(": ") if message else str(kind)


def sources_tried(failover: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per endpoint in the order tried: failed/skipped with a reason, or served."""
    rows: dict[str, dict[str, Any]] = {}
    served_by = failover.get("served_by")
    for attempt in failover.get("attempts") or []:
        endpoint = attempt["endpoint"]
        row = rows.setdefault(endpoint, {"endpoint": endpoint, "tries": 0, "reason": ""})
        if attempt.get("outcome") != "skipped":
            row["tries"] += 1
        if attempt.get("outcome") == "ok" and endpoint == served_by:
            row["status"], row["reason"] = "served", ""
        elif row.get("status") != "served":
            row["status"] = "skipped" if attempt.get("outcome") == "skipped" else "failed"
            row["reason"] = _reason(attempt)
    if served_by and served_by not in rows:
        rows[served_by] = {"endpoint": served_by, "tries": 1, "reason": "", "status": "served"}
    return list(rows.values())


def replicas_written(replication: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "endpoint": o["endpoint"],
            "status": "written" if o.get("ok") else "lagging",
            "reason": "" if o.get("ok") else _reason(o),
            "hinted": bool(o.get("hinted")),
            "latency_ms": o.get("latency_ms"),
        }
        for o in replication.get("outcomes") or []
    ]


def ti_lineage(
    events: Iterable[dict[str, Any]], xcom_reports: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Reports for one TI (events are newest first) and the picture of its latest read/write."""
    failovers: list[dict[str, Any]] = []
    replications: list[dict[str, Any]] = []
    for event in events:
        detail = event.get("detail") or {}
        if event["kind"] == "failover":
            failovers.append({**detail, "ts": event["ts"], "source": "event"})
        elif event["kind"] in ("replicated", "degraded", "write_failed"):
            replications.append({**detail, "ts": event["ts"], "source": "event"})
    for report in xcom_reports:
        if report.get("type") == "failover" and not _same_failover(report, failovers):
            failovers.append({**report, "source": "xcom"})
        elif report.get("type") == "replication" and not _same_replication(report, replications):
            replications.append({**report, "source": "xcom"})
    latest_read = failovers[0] if failovers else None
    latest_write = replications[0] if replications else None
    return {
        "failover_reports": failovers,
        "replication_reports": replications,
        "picture": {
            "sources": sources_tried(latest_read) if latest_read else [],
            "served_by": latest_read.get("served_by") if latest_read else None,
            "replica_set": latest_write.get("replica_set") if latest_write else None,
            "replicas": replicas_written(latest_write) if latest_write else [],
        },
    }


def _same_failover(report: dict[str, Any], known: list[dict[str, Any]]) -> bool:
    return any(
        (k.get("served_by"), k.get("attempts")) == (report.get("served_by"), report.get("attempts"))
        for k in known
    )


def _same_replication(report: dict[str, Any], known: list[dict[str, Any]]) -> bool:
    return any(
        k.get("item") == report.get("item") and k.get("outcomes") == report.get("outcomes")
        for k in known
    )


def _box(x: float, y: float, row: dict[str, Any], role: str) -> str:
    status = row["status"]
    label = escape(_shorten(row["endpoint"], LABEL_CHARS))
    reason = row.get("reason") or ""
    sub = (
        f"{escape(status)} · {escape(_shorten(reason, REASON_CHARS))}" if reason else escape(status)
    )
    return (
        f'<g class="node" data-role="{role}" data-status="{status}" '
        f'data-endpoint="{escape(row["endpoint"])}">'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
        f'fill="{COLOURS[status]}" stroke="#888"/>'
        f'<text x="{x + 8}" y="{y + 18}" class="label">{label}</text>'
        f'<text x="{x + 8}" y="{y + 36}" class="sub">{sub}</text>'
        f"<title>{escape(row['endpoint'])}: {escape(row.get('reason') or status)}</title></g>"
    )


def _arrow(x1: float, y1: float, x2: float, y2: float, dashed: bool) -> str:
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#666"{dash} '
        'marker-end="url(#arrow)"/>'
    )


def render_svg(picture: dict[str, Any]) -> Markup:
    """Three columns: passed over, served, replicas. Every name is escaped."""
    passed = [s for s in picture["sources"] if s["status"] != "served"]
    served = [s for s in picture["sources"] if s["status"] == "served"]
    replicas = picture["replicas"]
    if not (passed or served or replicas):
        return Markup('<p class="muted">No failover or replication recorded for this task.</p>')
    columns = [passed, served, replicas]
    rows = max(len(c) for c in columns)
    height = rows * (BOX_H + GAP_Y) + 30
    width = 3 * BOX_W + 2 * GAP_X + 10
    xs = [5, 5 + BOX_W + GAP_X, 5 + 2 * (BOX_W + GAP_X)]

    def y_of(index: int) -> float:
        return 22 + index * (BOX_H + GAP_Y)

    parts = [
        f'<svg id="lineage" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Lineage of fallbacks"><defs><marker id="arrow" viewBox="0 0 10 10" '
        'refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
        # Own font rules, so names fit their boxes in the UI and in the demo's report alike.
        "<style>#lineage text.label{font:12px ui-monospace,Menlo,monospace}"
        "#lineage text.sub{font:11px system-ui,sans-serif;fill:#555}"
        "#lineage text.head{font:600 11px system-ui,sans-serif;fill:#555}</style>",
        f'<text x="{xs[0]}" y="12" class="head">sources passed over</text>',
        f'<text x="{xs[1]}" y="12" class="head">served by</text>',
        f'<text x="{xs[2]}" y="12" class="head">replicas {escape(picture.get("replica_set") or "")}'
        "</text>",
    ]
    target_y = y_of(0) + BOX_H / 2
    for i, row in enumerate(passed):
        parts.append(_box(xs[0], y_of(i), row, "source"))
        if served:
            parts.append(_arrow(xs[0] + BOX_W, y_of(i) + BOX_H / 2, xs[1], target_y, dashed=True))
    for i, row in enumerate(served):
        parts.append(_box(xs[1], y_of(i), row, "served"))
    for i, row in enumerate(replicas):
        parts.append(_box(xs[2], y_of(i), row, "replica"))
        if served:
            parts.append(
                _arrow(
                    xs[1] + BOX_W, target_y, xs[2], y_of(i) + BOX_H / 2, row["status"] != "written"
                )
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shorten(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
