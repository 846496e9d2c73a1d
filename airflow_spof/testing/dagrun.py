"""Run a DAG with ``dag.test()`` (optionally under injected faults) and read back what it did.

The result gathers what a test asserts on: the run and task states, each
task's return value (XCom) and the asset events the run emitted, with
their ``extra``, read from the metadata database like the UI does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_spof import chaos


@dataclass
class AssetEventRecord:
    uri: str
    extra: dict[str, Any]
    task_id: str | None


@dataclass
class RunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str | None]
    xcoms: dict[str, Any] = field(default_factory=dict)
    asset_events: list[AssetEventRecord] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    def events_of(self, task_id: str) -> list[AssetEventRecord]:
        return [e for e in self.asset_events if e.task_id == task_id]


def run_dag(
    dag: Any,
    logical_date: datetime | None = None,
    faults: Iterable[str] = (),
    conf: dict[str, Any] | None = None,
) -> RunResult:
    """``dag.test()`` under ``faults`` (``SELECTOR=KIND``, see :mod:`airflow_spof.chaos`)."""
    with chaos.inject(*faults):
        dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    return collect(dag.dag_id, dag_run.run_id)


def collect(dag_id: str, run_id: str) -> RunResult:
    """Read a finished run's states, return values and asset events from the metadata DB."""
    import sqlalchemy as sa
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.scalar(
            sa.select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        )
        if run is None:
            raise LookupError(f"no run {run_id!r} of DAG {dag_id!r}")
        tis = session.scalars(
            sa.select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
            )
        ).all()
        xcoms = session.execute(
            sa.select(XComModel.task_id, XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.key == "return_value",
            )
        ).all()
        events = session.execute(
            sa.select(AssetModel.uri, AssetEvent.extra, AssetEvent.source_task_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
            .order_by(AssetEvent.id)
        ).all()
        return RunResult(
            dag_id=dag_id,
            run_id=run_id,
            state=str(run.state),
            task_states={ti.task_id: (str(ti.state) if ti.state else None) for ti in tis},
            xcoms={task_id: _decode(value) for task_id, value in xcoms},
            asset_events=[
                AssetEventRecord(uri, dict(extra or {}), task) for uri, extra, task in events
            ],
        )


def _decode(value: Any) -> Any:
    """XCom values are stored serialised; tests want plain data back."""
    if isinstance(value, (bytes, str)):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    try:
        from airflow.sdk.serde import deserialize

        return deserialize(value)
    except Exception:
        return value
