"""What a rule is: documentation and a check, kept side by side as data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Dag, ReplicaSet, Severity, Task

TaskCheck = Callable[[Task, Dag, LintConfig], Iterable[str]]
ReplicaCheck = Callable[[ReplicaSet, LintConfig], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    """One lint rule; the docs in ``docs/rules.md`` are generated from these fields.

    ``scope`` says what the check receives: one task in its DAG, one replica
    set, or nothing (``file`` rules are raised by the engine itself).
    """

    code: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    bad: str
    good: str
    fix: str
    scope: Literal["task", "replicas", "file"]
    task_check: TaskCheck | None = None
    replica_check: ReplicaCheck | None = None
    needs: frozenset[str] = frozenset()
    """Task arguments of which the check needs at least one (none: it reads others): a
    task without any of them is passed over without calling the check."""
