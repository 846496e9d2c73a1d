"""Where a parsed DAG's tasks and replica sets are written, for the cluster policy.

Operator objects carry no line numbers, so the policy reads ``dag.fileloc`` as
text and runs the static engine on it (never importing it): every task it finds
keeps its source span, and the file's ``# noqa`` comments apply to policy findings
exactly as they do to ``airflow-spof lint``. One index per file, rebuilt when the
file changes.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_spof.lint import noqa
from airflow_spof.lint.engine import build_scope
from airflow_spof.lint.model import Finding, Location, ReplicaSet
from airflow_spof.lint.static.imports import ModuleLoader
from airflow_spof.lint.static.interpreter import Interpreter

EndpointKey = tuple[tuple[Any, Any, Any], ...]


@dataclass
class SourceIndex:
    """Static facts about one DAG file: task spans, replica-set spans, noqa comments."""

    path: str
    skip: bool = False
    tasks: dict[tuple[str, str], Location] = field(default_factory=dict)
    by_task_id: dict[str, Location | None] = field(default_factory=dict)
    dags: dict[str, Location] = field(default_factory=dict)
    replica_sets: dict[EndpointKey, Location] = field(default_factory=dict)
    suppressions: dict[str, noqa.NoqaMap] = field(default_factory=dict)

    def task(self, dag_id: str, task_id: str) -> Location | None:
        """The span of a task's definition (``None`` when the engine could not place it)."""
        return self.tasks.get((dag_id, task_id)) or self.by_task_id.get(task_id)

    def replica_set(self, replicas: ReplicaSet) -> Location | None:
        return self.replica_sets.get(endpoint_key(replicas))

    def suppressed(self, finding: Finding) -> bool:
        """``# noqa`` on the finding's lines, in the file the finding points into."""
        path = finding.where.path
        if path not in self.suppressions:
            self.suppressions[path] = _noqa_of(path)
        return noqa.suppressed(finding, self.suppressions[path])


def endpoint_key(replicas: ReplicaSet) -> EndpointKey:
    """What identifies a replica set both statically and at run time."""
    return tuple((e.kind, e.conn_id, e.region) for e in replicas.endpoints or ())


_cache: dict[str, tuple[tuple[int, int], SourceIndex]] = {}


def index_for(path: str) -> SourceIndex:
    """The (cached) index of a DAG file; an empty index when it cannot be read or parsed."""
    try:
        stat = os.stat(path)
    except OSError:
        return SourceIndex(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index = build(path)
    _cache[path] = (stamp, index)
    return index


def build(path: str) -> SourceIndex:
    index = SourceIndex(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
        tree = ast.parse(source, filename=path)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return index
    index.skip = noqa.skip_file(source)
    index.suppressions[path] = noqa.parse(source)
    interpreter = Interpreter(path, ModuleLoader([Path(path).parent], build_scope))
    try:
        module = interpreter.run(tree)
    except Exception:  # the policy must never break DAG parsing; lines fall back to 1
        return index
    for dag in module.dags:
        if dag.where is not None:
            index.dags.setdefault(dag.dag_id, dag.where)
        for task_id, task in dag.tasks.items():
            if task.where is None:
                continue
            index.tasks.setdefault((dag.dag_id, task_id), task.where)
            known = index.by_task_id.get(task_id, task.where)
            index.by_task_id[task_id] = task.where if known == task.where else None
    declared = [*module.replica_sets, *_scope_replica_sets(interpreter.frames[0])]
    for replicas in declared:
        if replicas.where is not None and replicas.endpoints:
            index.replica_sets.setdefault(endpoint_key(replicas), replicas.where)
    return index


def _scope_replica_sets(scope: dict[str, Any]) -> list[ReplicaSet]:
    """Replica sets the file imports from sibling modules (declared, and noqa'd, there)."""
    return [value for value in scope.values() if isinstance(value, ReplicaSet)]


def _noqa_of(path: str) -> noqa.NoqaMap:
    try:
        return noqa.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
