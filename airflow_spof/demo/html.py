"""The demo's HTML report: the summary table and, per run, the lineage of fallbacks.

The lineage picture (sources tried -> served -> replicas written/lagging)
is drawn by the UI plugin's renderer, so the report shows exactly what
the Resilience page would.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup, escape

from airflow_spof.demo.report import DemoReport, StepResult

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}
.ok{color:#1a7f37}.bad{color:#c62828}.lag{color:#9a6700}
svg text.label{font:13px monospace}svg text.sub{font:11px sans-serif;fill:#555}
svg text.head{font:bold 12px sans-serif}pre{background:#f6f8fa;padding:1em;overflow:auto}
"""


def _lines(items: list[str], css: str = "") -> Markup:
    if not items:
        return Markup("-")
    return Markup("<br>").join(Markup(f'<span class="{css}">{escape(i)}</span>') for i in items)


def _row(step: StepResult) -> Markup:
    served = escape(step.served_by or "-")
    if step.fell_back:
        served += Markup("<br><small>fallback from ") + escape(", ".join(step.fallback_from))
        served += Markup("</small>")
    breakers = [f"{ep}: {state}" for ep, state in step.breakers.items()] or ["all closed"]
    mark = Markup('<span class="ok">✔</span>' if step.ok else '<span class="bad">✗</span>')
    return Markup(
        f"<tr><td>{mark} {step.number}. {escape(step.title)}</td><td>{escape(step.dag_id)}</td>"
        f"<td>{served}</td><td>{_lines(step.written)}</td><td>{_lines(step.lagging, 'lag')}</td>"
        f"<td>{step.seconds:.1f}s</td><td>{_lines(breakers)}</td></tr>"
    )


def _section(step: StepResult) -> Markup:
    from airflow_spof.plugin.lineage_view import render_svg

    parts = [Markup(f"<h2>{step.number}. {escape(step.title)}</h2>")]
    if step.picture:
        parts.append(render_svg(step.picture))
    if step.checksums:
        rows = Markup("").join(
            Markup(f"<tr><td>{escape(key)}</td><td>{escape(ep)}</td><td><code>")
            + escape(digest or "missing")
            + Markup("</code></td></tr>")
            for key, sums in step.checksums.items()
            for ep, digest in sums.items()
        )
        parts.append(Markup("<table><tr><th>item</th><th>replica</th><th>checksum</th></tr>"))
        parts.append(rows + Markup("</table>"))
    if step.details.get("by_rule"):
        rules = ", ".join(f"{code}: {n}" for code, n in step.details["by_rule"].items())
        parts.append(Markup("<p>Fragile sample: ") + escape(rules) + Markup("</p>"))
    for note in step.notes:
        parts.append(Markup("<p>") + escape(note) + Markup("</p>"))
    return Markup("").join(parts)


def render(report: DemoReport) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("step", "DAG", "served by", "replicas written", "lagging", "time", "breakers")
    )
    verdict = "all steps passed" if report.ok else "some steps failed"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>airflow-spof demo</title>"
        f"<style>{STYLE}</style></head><body><h1>airflow-spof demo</h1>"
        f"<p>{verdict} in {report.seconds:.1f}s</p>"
        f"<table><tr>{head}</tr>{''.join(_row(s) for s in report.steps)}</table>"
        f"{''.join(_section(s) for s in report.steps)}</body></html>"
    )


def write(report: DemoReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
