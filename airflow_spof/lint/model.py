"""Normalised facts about DAGs, tasks and replica sets.

Both the static engine (AST) and the cluster policy (parsed DAG objects)
reduce what they see to these plain objects, so every rule is written once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value the static engine could not resolve (env vars, Variables, calls)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


class PartialStr(str):
    """A string with unresolved parts (f-strings), each shown as ``{?}``."""


class Severity(enum.IntEnum):
    """Ordered so ``--fail-on`` can compare."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r}; use one of: info, warning, error"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Location:
    """Where a finding points; ``noqa_lines`` are the lines a ``# noqa`` may sit on."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    noqa_lines: tuple[int, ...] = ()

    def __init__(
        self,
        path: str,
        line: int,
        col: int,
        end_line: int,
        end_col: int,
        noqa_lines: tuple[int, ...] = (),
    ) -> None:
        # The generated frozen __init__, minus one object.__setattr__ call per field
        # (one Location per task and finding: ~4x faster). Still frozen, hashable, equal.
        self.__dict__.update(
            path=path, line=line, col=col, end_line=end_line, end_col=end_col, noqa_lines=noqa_lines
        )


@dataclass
class Endpoint:
    """One replica as declared by ``s3()``, ``sql()`` or ``fs()``."""

    kind: str
    conn_id: Any = None
    region: Any = None
    location: Any = None


@dataclass
class ReplicaSet:
    """A ``Replicas(...)`` declaration; ``endpoints`` is None when not resolvable."""

    endpoints: list[Endpoint] | None
    write_consistency: Any = "quorum"
    min_regions: Any = 1
    name: str = ""
    where: Location | None = None


@dataclass
class PathUse:
    """A local filesystem path a task touches: mode is read, write or unknown."""

    path: str
    mode: str


@dataclass
class Task:
    """One task with its effective arguments (default_args already merged in)."""

    task_id: str
    dag_id: str
    operator: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    from_default_args: set[str] = field(default_factory=set)
    complete: bool = True
    is_sensor: bool = False
    is_taskflow: bool = False
    body_conn_ids: list[str] = field(default_factory=list)
    body_reads_external: bool = False
    body_hosts: list[str] = field(default_factory=list)
    uses_replicas: bool = False
    paths: list[PathUse] = field(default_factory=list)
    upstream: set[str] = field(default_factory=set)
    where: Location | None = None
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Answers rules derive from the task's arguments alone (connections, hosts...), never
    from its id: tasks one call site makes with the same arguments share them."""
    key: str = ""
    """Its key in ``Dag.tasks`` and ``upstream`` sets (default: ``task_id``). Differs only
    for one task built two ways in exclusive branches: ``run`` and ``run__1``, both 'run'."""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = self.task_id

    def get(self, key: str, default: Any = None) -> Any:
        return self.kwargs.get(key, default)

    def origin(self, key: str) -> str:
        """Tell the reader whether a value came from default_args."""
        return " (from default_args)" if key in self.from_default_args else ""


@dataclass
class Dag:
    """A DAG: its tasks by id; edges live on each task's ``upstream``."""

    dag_id: str
    tasks: dict[str, Task] = field(default_factory=dict)
    where: Location | None = None
    _ancestors: dict[str, set[str]] = field(default_factory=dict, repr=False, compare=False)
    _selections: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def ancestors(self, task_id: str) -> set[str]:
        """Every task that must finish before ``task_id`` starts (memoised: rules run after
        extraction, when the graph no longer changes; known closures are reused)."""
        if task_id in self._ancestors:
            return self._ancestors[task_id]
        seen: set[str] = set()
        stack = list(self.tasks[task_id].upstream) if task_id in self.tasks else []
        while stack:
            current = stack.pop()
            if current in seen or current not in self.tasks:
                continue
            seen.add(current)
            known = self._ancestors.get(current)
            if known is not None:
                seen |= known
            else:
                stack.extend(self.tasks[current].upstream)
        self._ancestors[task_id] = seen
        return seen

    def select(self, key: str, predicate: Callable[[Task], bool]) -> frozenset[str]:
        """Ids of the tasks matching ``predicate``, memoised under ``key`` (one pass per DAG)."""
        found = self._selections.get(key)
        if found is None:
            found = frozenset(k for k, t in self.tasks.items() if predicate(t))
            self._selections[key] = found
        return found

    def any_upstream(self, task_id: str, key: str, predicate: Callable[[Task], bool]) -> bool:
        """Does a task matching ``predicate`` run before ``task_id``? Skips the graph walk
        when no task of the DAG matches."""
        chosen = self.select(key, predicate)
        return bool(chosen) and not chosen.isdisjoint(self.ancestors(task_id))


@dataclass
class Module:
    """Everything extracted from one file."""

    path: str
    dags: list[Dag] = field(default_factory=list)
    replica_sets: list[ReplicaSet] = field(default_factory=list)
    unfollowed: Location | None = None
    """The first call of the file's own functions left unfollowed (its budget was spent)."""

    def tasks(self) -> Iterator[tuple[Dag, Task]]:
        for dag in self.dags:
            for task in dag.tasks.values():
                yield dag, task


@dataclass(frozen=True)
class Finding:
    """One reported problem."""

    code: str
    name: str
    severity: Severity
    message: str
    where: Location
    fix: str = ""
    dag_id: str | None = None
    task_id: str | None = None

    def __init__(
        self,
        code: str,
        name: str,
        severity: Severity,
        message: str,
        where: Location,
        fix: str = "",
        dag_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        # As for Location: the frozen __init__ without a setattr call per field.
        self.__dict__.update(
            code=code,
            name=name,
            severity=severity,
            message=message,
            where=where,
            fix=fix,
            dag_id=dag_id,
            task_id=task_id,
        )

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.where.path, self.where.line, self.where.col, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "path": self.where.path,
            "line": self.where.line,
            "col": self.where.col,
            "end_line": self.where.end_line,
            "end_col": self.where.end_col,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "fix": self.fix,
        }
