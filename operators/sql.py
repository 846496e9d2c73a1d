"""FailoverSqlOperator: a query on the first healthy database of a set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.formats import check_format, from_rows, infer_format
from airflow_spof.operators.base import SpofBaseOperator, as_replicas
from airflow_spof.operators.payload import holds_tables
from airflow_spof.quality import rows_frame


class FailoverSqlOperator(SpofBaseOperator):
    """Run ``sql`` on read replicas across regions, in order, with failover.

    Results of up to ``max_xcom_rows`` rows are returned (XCom). Larger ones
    need ``destination`` (a replica set) and are written there, and the
    task returns the write report instead: XCom is not a data store.
    The report (failover, and the write if any) is pushed to XCom under
    ``spof_report`` either way.
    """

    template_fields: Sequence[str] = ("sql", "parameters", "destination_key")
    template_ext: Sequence[str] = (".sql",)

    def __init__(
        self,
        *,
        sources: Replicas | Endpoint | Sequence[Endpoint],
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        max_xcom_rows: int = 1000,
        destination: Replicas | None = None,
        destination_key: str | None = None,
        format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = as_replicas(sources, f"{self.task_id}.sources")
        if not holds_tables(self.sources, f"{self.task_id}.sources"):
            raise ValueError(f"{self.task_id}: sources must be sql() endpoints")
        if not sql:
            raise ValueError(f"{self.task_id}: sql= is required")
        if isinstance(max_xcom_rows, bool) or max_xcom_rows < 0:
            raise ValueError(
                f"{self.task_id}: max_xcom_rows must be 0 or more, got {max_xcom_rows!r}"
            )
        self.to_tables = bool(destination) and holds_tables(
            destination, f"{self.task_id}.destination"
        )
        if destination is not None and not self.to_tables and not destination_key:
            raise ValueError(f"{self.task_id}: an object destination needs destination_key=")
        self.sql = sql
        self.parameters = dict(parameters or {})
        self.max_xcom_rows = max_xcom_rows
        self.destination = destination
        self.destination_key = destination_key
        self.format = check_format(format)

    def execute(self, context: Any) -> Any:
        gate = self.quality_gate
        validator = (lambda rows: gate.validate(rows_frame(rows, rows.columns))) if gate else None
        with self.permanent_errors_fail_fast():
            rows, failover = self.hook(self.sources).query(
                self.sql, self.parameters or None, validator=validator
            )
            if len(rows) <= self.max_xcom_rows and self.destination is None:
                report = self.finish(context, sources=self.sources, failover=failover)
                context["ti"].xcom_push(key="spof_report", value=report)
                return rows
            if self.destination is None:
                raise AirflowFailException(
                    f"{self.task_id}: the query returned {len(rows)} rows, more than "
                    f"max_xcom_rows={self.max_xcom_rows}; set destination= to write them to a "
                    "replica set"
                )
            hook = self.hook(self.destination)
            if self.to_tables:
                replication = hook.write_rows(
                    rows, item=f"{self.dag_id}/{context['run_id']}/{self.task_id}"
                )
            else:
                key = str(self.destination_key)
                replication = hook.write(
                    key, from_rows(rows, infer_format(key, self.format), rows.columns)
                )
        report = self.finish(
            context,
            sources=self.sources,
            failover=failover,
            replicas=self.destination,
            replica_item=None if self.to_tables else self.destination_key,
            replication=replication,
        )
        context["ti"].xcom_push(key="spof_report", value=report)
        return report
