"""Run a DAG under injected faults, then prove it healed: the engine of ``airflow-spof drill``.

The run goes through real ``dag.test()``. Faults hold for the whole run,
unless the DAG declares a ``spof_faults`` param: then the DAG scopes them
itself (a drill DAG takes a region down around its data path only) and the
faults are passed as run configuration. Afterwards the faults are gone,
every replica set the DAG uses is repaired and fingerprinted.

Task retries are kept but their delays are not: a drill should not wait
five minutes for a retry that ``dag.test()`` would sleep through.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_spof.chaos import Fault, parse_fault
from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.testing.convergence import Convergence, repair_and_compare
from airflow_spof.testing.dagrun import RunResult, run_dag

FAULTS_PARAM = "spof_faults"


@dataclass
class DrillReport:
    dag_id: str
    faults: list[str]
    run: RunResult
    run_seconds: float
    repair_seconds: float
    replica_sets: list[Convergence]
    task_errors: dict[str, str] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return all(c.converged for c in self.replica_sets)

    @property
    def passed(self) -> bool:
        return self.run.succeeded and self.converged

    @property
    def time_to_recover_s(self) -> float | None:
        """From the start of the outage to replicas proven identical (None: did not recover)."""
        return round(self.run_seconds + self.repair_seconds, 3) if self.passed else None

    def reasons(self) -> list[str]:
        """Why the drill failed, one line each (empty when it passed)."""
        found = [
            f"task {task} failed: {self.task_errors.get(task, 'see the task log')}"
            for task, state in sorted(self.run.task_states.items())
            if state in ("failed", "upstream_failed")
        ]
        if not self.run.succeeded and not found:
            found.append(f"DAG run ended {self.run.state}")
        for c in self.replica_sets:
            if not c.converged:
                detail = ", ".join(f"{ep}={fp}" for ep, fp in c.fingerprints.items())
                found.append(f"replica set {c.replica_set} did not converge: {detail}")
        return found

    def to_dict(self) -> dict[str, Any]:
        dag_reported = [
            x.get("time_to_recover_s") for x in self.run.xcoms.values() if isinstance(x, dict)
        ]
        return {
            "dag_id": self.dag_id,
            "run_id": self.run.run_id,
            "faults": self.faults,
            "passed": self.passed,
            "run_state": self.run.state,
            "task_states": self.run.task_states,
            "run_seconds": round(self.run_seconds, 3),
            "repair_seconds": round(self.repair_seconds, 3),
            "time_to_recover_s": self.time_to_recover_s,
            "dag_reported_time_to_recover_s": next((t for t in dag_reported if t), None),
            "converged": self.converged,
            "replica_sets": [c.to_dict() for c in self.replica_sets],
            "reasons": self.reasons(),
        }


def run_drill(
    dag: Any,
    faults: Iterable[str | Fault],
    replica_sets: Iterable[Replicas],
    logical_date: datetime | None = None,
) -> DrillReport:
    """Run ``dag`` under ``faults``; lift them; repair and fingerprint ``replica_sets``."""
    specs = [str(f if isinstance(f, Fault) else parse_fault(f)) for f in faults]
    when = logical_date or datetime.now(timezone.utc).replace(microsecond=0)
    errors: dict[str, str] = {}
    started = time.monotonic()
    with _drill_settings(dag, errors):
        if FAULTS_PARAM in dag.params:
            result = run_dag(dag, when, conf={FAULTS_PARAM: specs})
        else:
            result = run_dag(dag, when, faults=specs)
    run_seconds = time.monotonic() - started
    started = time.monotonic()
    converged = [repair_and_compare(replicas) for replicas in replica_sets]
    return DrillReport(
        dag.dag_id, specs, result, run_seconds, time.monotonic() - started, converged, errors
    )


@contextlib.contextmanager
def _drill_settings(dag: Any, errors: dict[str, str]) -> Iterator[None]:
    """No retry delays, and every task's error recorded; restored afterwards."""

    def record(context: Mapping[str, Any]) -> None:
        exc = context.get("exception")
        errors[context["ti"].task_id] = f"{type(exc).__name__}: {exc}" if exc else "failed"

    saved = []
    for task in dag.tasks:
        saved.append((task, task.retry_delay, task.on_failure_callback, task.on_retry_callback))
        task.retry_delay = timedelta(0)
        task.on_failure_callback = [*_as_list(task.on_failure_callback), record]
        task.on_retry_callback = [*_as_list(task.on_retry_callback), record]
    try:
        yield
    finally:
        for task, delay, on_failure, on_retry in saved:
            task.retry_delay = delay
            task.on_failure_callback = on_failure
            task.on_retry_callback = on_retry


def _as_list(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    return list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]


def replica_sets_of(dag: Any) -> dict[str, Replicas]:
    """Replica sets held by the DAG's operators, then those named in the DAG's module."""
    found: dict[str, Replicas] = {}
    for task in dag.tasks:
        for value in vars(task).values():
            for replicas in _replicas_in(value):
                found.setdefault(replicas.name, replicas)
    module = _module_of(dag.fileloc)
    if module is not None:
        for value in vars(module).values():
            for replicas in _replicas_in(value):
                found.setdefault(replicas.name, replicas)
    return found


def endpoints_of(sets: Iterable[Replicas]) -> list[Endpoint]:
    seen: dict[str, Endpoint] = {}
    for replicas in sets:
        for endpoint in replicas:
            seen.setdefault(endpoint.name, endpoint)
    return list(seen.values())


def _replicas_in(value: Any) -> list[Replicas]:
    if isinstance(value, Replicas):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Replicas)]
    return []


def _module_of(fileloc: str) -> Any:
    """The module DagBag imported for a DAG file (it gets a mangled name)."""
    target = os.path.realpath(fileloc)
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path) == target:
            return module
    return None
