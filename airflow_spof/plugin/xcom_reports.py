"""The failover/replication reports a task returned as XCom (the API server reads them).

A read that succeeded on its first source writes no event (nothing failed
over), yet its report still says which source served; the operators return
``{"failover": ..., "replication": ...}``, so the task-instance tab finds
it here.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _reports_in(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("type") in ("failover", "replication"):
        return [value]
    return [
        v
        for v in (value.get("failover"), value.get("replication"))
        if isinstance(v, dict) and v.get("type") in ("failover", "replication")
    ]


def xcom_reports(dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
    """Reports found in the task instance's ``return_value`` XCom (none when unreadable)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(XComModel).where(
        XComModel.dag_id == dag_id,
        XComModel.run_id == run_id,
        XComModel.task_id == task_id,
        XComModel.map_index == map_index,
        XComModel.key == "return_value",
    )
    try:
        with create_session() as session:
            values = [XComModel.deserialize_value(row) for row in session.scalars(query)]
    except Exception as exc:  # the event log still answers
        log.warning("spof: could not read XCom of %s.%s: %s", dag_id, task_id, type(exc).__name__)
        return []
    return [report for value in values for report in _reports_in(value)]
