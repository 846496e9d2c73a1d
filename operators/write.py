"""ReplicatedWriteOperator: one payload to every replica, at the set's write consistency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.formats import check_format
from airflow_spof.operators.base import SpofBaseOperator, as_replicas
from airflow_spof.operators.payload import as_bytes, as_rows, holds_tables, is_frame, open_path


class ReplicatedWriteOperator(SpofBaseOperator):
    """Write data to a replica set; fail clearly below W; push the ReplicationReport.

    Exactly one payload source:

    :param data: bytes, text, rows (list of dicts) or a DataFrame; an XComArg
        (``upstream.output``) or a template pulling XCom both work.
    :param source_path: a local file or URI (``s3://...``, via ObjectStoragePath
        and ``source_conn_id``), streamed, never loaded whole.
    :param sql: a query whose result is written, run with failover on ``sql_source``.
    :param key: object key for S3/filesystem replicas (templated).
    :param format: csv, jsonl or parquet when rows become bytes or back.
    """

    template_fields: Sequence[str] = ("key", "data", "source_path", "sql")

    def __init__(
        self,
        *,
        replicas: Replicas,
        key: str | None = None,
        data: Any = None,
        source_path: str | None = None,
        source_conn_id: str | None = None,
        sql: str | None = None,
        sql_source: Replicas | Endpoint | Sequence[Endpoint] | None = None,
        format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [
            name
            for name, v in (("data", data), ("source_path", source_path), ("sql", sql))
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                f"{self.task_id}: give exactly one of data, source_path or sql "
                f"(got {given or 'none'})"
            )
        self.tables = holds_tables(replicas, f"{self.task_id}.replicas")
        if not self.tables and not key:
            raise ValueError(f"{self.task_id}: object replicas need key=")
        if sql is not None and sql_source is None:
            raise ValueError(f"{self.task_id}: sql= needs sql_source= (where to run the query)")
        self.replicas = replicas
        self.key = key
        self.data = data
        self.source_path = source_path
        self.source_conn_id = source_conn_id
        self.sql = sql
        self.sql_source = (
            as_replicas(sql_source, f"{self.task_id}.sql_source") if sql_source else None
        )
        self.format = check_format(format)

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render as usual; a ``data`` template whose value is rows or a DataFrame (an
        ``xcom_pull``) keeps that value, instead of becoming its Python repr as text."""
        template = self.data
        super().render_template_fields(context, jinja_env)
        if isinstance(template, str) and isinstance(self.data, str) and template != self.data:
            value = _render_native(self, template, context)
            if (isinstance(value, list) and all(isinstance(r, dict) for r in value)) or (
                is_frame(value)
            ):
                self.data = value

    def execute(self, context: Any) -> dict[str, Any]:
        failover = None
        payload: Any = self.data
        with self.permanent_errors_fail_fast():
            if self.sql is not None and self.sql_source is not None:
                payload, failover = self.hook(self.sql_source).query(self.sql)
            hook = self.hook(self.replicas)
            if self.tables:
                if self.source_path is not None:
                    with open_path(self.source_path, self.source_conn_id) as handle:
                        payload = handle.read()
                report = hook.write_rows(as_rows(payload, self.format), item=self._item(context))
            elif self.source_path is not None:
                with open_path(self.source_path, self.source_conn_id) as handle:
                    report = hook.write(str(self.key), handle)
            else:
                report = hook.write(str(self.key), as_bytes(payload, str(self.key), self.format))
        return self.finish(
            context,
            sources=self.sql_source,
            failover=failover,
            replicas=self.replicas,
            replica_item=None if self.tables else self.key,
            replication=report,
        )

    def _item(self, context: Any) -> str:
        return f"{self.dag_id}/{context['run_id']}/{self.task_id}"


def _render_native(task: BaseOperator, template: str, context: Any) -> Any:
    """Render as the DAG would with ``render_template_as_native_obj=True``."""
    from airflow.sdk.definitions._internal.templater import create_template_env
    from airflow.sdk.definitions.context import render_template_as_native

    dag = task.get_dag()
    settings: dict[str, Any] = {}
    if dag is not None:
        settings = {
            "searchpath": [dag.folder, *(dag.template_searchpath or [])],
            "template_undefined": dag.template_undefined,
            "jinja_environment_kwargs": dag.jinja_environment_kwargs,
            "user_defined_macros": dag.user_defined_macros,
            "user_defined_filters": dag.user_defined_filters,
        }
    env = create_template_env(native=True, **settings)
    return render_template_as_native(env.from_string(template), context)
