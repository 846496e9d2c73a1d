"""The blast radius of each single point: who depends on a connection, queue, pool,
host or node alone, most-depended-on first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Module, PartialStr
from airflow_spof.lint.rules import classify


@dataclass
class Resource:
    """One thing tasks depend on, and the tasks that have no alternative to it."""

    kind: str
    name: str
    note: str = ""
    tasks: set[tuple[str, str]] = field(default_factory=set)

    @property
    def dags(self) -> list[str]:
        return sorted({dag for dag, _ in self.tasks})

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "note": self.note,
            "dag_count": len(self.dags),
            "task_count": len(self.tasks),
            "dags": self.dags,
            "tasks": [f"{d}.{t}" for d, t in sorted(self.tasks)],
        }


def build(modules: Iterable[Module], cfg: LintConfig) -> list[Resource]:
    """Collect resources from extracted facts, sorted by how many tasks rely on each alone."""
    found: dict[tuple[str, str], Resource] = {}

    def add(kind: str, name: str, dag: str, task: str, note: str = "") -> None:
        resource = found.setdefault((kind, name), Resource(kind, name, note))
        resource.tasks.add((dag, task))

    for module in modules:
        for dag, task in module.tasks():
            key = (dag.dag_id, task.task_id)
            if not classify.has_fallback(task):
                for conn in classify.conn_ids(task):
                    add(
                        "connection",
                        conn,
                        *key,
                        "ha (allow-listed)" if cfg.is_ha_connection(conn) else "",
                    )
            queue = task.get("queue")
            if isinstance(queue, str) and not isinstance(queue, PartialStr) and queue:
                workers = cfg.queues.get(queue)
                add("queue", queue, *key, "unknown" if workers is None else f"{workers} worker(s)")
            pool = task.get("pool")
            if isinstance(pool, str) and not isinstance(pool, PartialStr) and pool:
                slots = cfg.pools.get(pool)
                add("pool", pool, *key, "unknown" if slots is None else f"{slots} slot(s)")
            for host in classify.literal_hosts(task):
                add("host", host, *key)
            for value_key in ("executor_config", "node_selector", "affinity", "full_pod_spec"):
                value = task.get(value_key)
                if value_key == "node_selector":
                    value = {"node_selector": value}
                for node in classify.pinned_hosts(value):
                    add("node", node, *key)
    return sorted(found.values(), key=lambda r: (-len(r.tasks), -len(r.dags), r.kind, r.name))


def render_table(resources: list[Resource], width: int = 60) -> str:
    if not resources:
        return "No connections, queues, pools, hosts or nodes found.\n"
    rows = [("KIND", "NAME", "DAGS", "TASKS", "NOTE", "DEPENDENT TASKS")]
    for r in resources:
        tasks = ", ".join(f"{d}.{t}" for d, t in sorted(r.tasks))
        if len(tasks) > width:
            tasks = tasks[: width - 3] + "..."
        rows.append((r.kind, r.name, str(len(r.dags)), str(len(r.tasks)), r.note, tasks))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "".join(
        "  ".join(cell.ljust(widths[i]) if i < 5 else cell for i, cell in enumerate(row)).rstrip()
        + "\n"
        for row in rows
    )


def render_json(resources: list[Resource]) -> str:
    return json.dumps([r.to_dict() for r in resources], indent=2) + "\n"
