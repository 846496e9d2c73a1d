"""What each demo step found, and the terminal table that sums it up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StepResult:
    """One step of the demo: the run it made and what the replicas and breakers looked like."""

    number: int
    title: str
    dag_id: str
    ok: bool
    seconds: float
    served_by: str | None = None
    fell_back: bool = False
    fallback_from: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    lagging: list[str] = field(default_factory=list)
    breakers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    picture: dict[str, Any] | None = None
    checksums: dict[str, dict[str, str | None]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DemoReport:
    steps: list[StepResult]
    seconds: float = 0.0
    html: str = ""
    json: str = ""
    log: str = ""
    kept: str | None = None

    @property
    def ok(self) -> bool:
        return len(self.steps) == 4 and all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "html": self.html,
            "log": self.log,
            "kept": self.kept,
            "steps": [s.to_dict() for s in self.steps],
        }


def short(endpoint: str) -> str:
    """``s3:aws_euw1/orders-landing-euw1`` -> ``aws_euw1/orders-landing-euw1``."""
    name = endpoint.split(":", 1)[-1]
    return name if len(name) <= 34 else "…" + name[-33:]


def summary_table(report: DemoReport) -> Any:
    from rich.table import Table

    table = Table(title="airflow-spof demo", show_lines=True)
    for column in ("step", "DAG", "served by", "replicas written", "lagging", "time", "breakers"):
        table.add_column(column)
    for step in report.steps:
        served = short(step.served_by) if step.served_by else "-"
        if step.fell_back:
            served += f"\n[yellow](fallback from {', '.join(map(short, step.fallback_from))})[/]"
        breakers = "\n".join(
            f"{short(ep)}: [{'red' if state == 'open' else 'green'}]{state}[/]"
            for ep, state in step.breakers.items()
        )
        table.add_row(
            f"{'[green]✔[/]' if step.ok else '[red]✗[/]'} {step.number}. {step.title}",
            step.dag_id,
            served,
            "\n".join(map(short, step.written)) or "-",
            "\n".join(f"[yellow]{short(e)}[/]" for e in step.lagging) or "-",
            f"{step.seconds:.1f}s",
            breakers or "all closed",
        )
    return table
