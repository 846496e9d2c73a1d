"""FailoverTransferOperator: read from the first healthy good source, write to replicas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.failover import Validator
from airflow_spof.formats import (
    FormatError,
    check_format,
    from_rows,
    infer_format,
    to_frame,
    to_rows,
)
from airflow_spof.hooks.sql_dialect import check_identifier
from airflow_spof.operators.base import SpofBaseOperator, as_replicas
from airflow_spof.operators.payload import holds_tables
from airflow_spof.quality import rows_frame


class FailoverTransferOperator(SpofBaseOperator):
    """Copy data from an ordered chain of sources into a replica set.

    Object to object in one format, to the same key and with no quality gate,
    streams bytes (a source that breaks mid-stream aborts every replica write
    and the next source is tried). In one format otherwise, the bytes are read
    whole, checked by the gate and written as read. Otherwise they are
    converted between CSV / JSON Lines / Parquet and rows, and written.

    :param sources: ordered sources (first = primary), a Replicas or endpoints.
    :param destination: the replica set to write.
    :param key: object key to read (templated); :param destination_key: key
        to write (default: ``key``); :param sql: query for table sources
        (default: the whole table).
    """

    template_fields: Sequence[str] = ("key", "destination_key", "sql")

    def __init__(
        self,
        *,
        sources: Replicas | Endpoint | Sequence[Endpoint],
        destination: Replicas,
        key: str | None = None,
        destination_key: str | None = None,
        sql: str | None = None,
        source_format: str | None = None,
        destination_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = as_replicas(sources, f"{self.task_id}.sources")
        self.destination = destination
        self.from_tables = holds_tables(self.sources, f"{self.task_id}.sources")
        self.to_tables = holds_tables(destination, f"{self.task_id}.destination")
        if not self.from_tables and not key:
            raise ValueError(f"{self.task_id}: object sources need key=")
        if not self.to_tables and not (destination_key or key):
            raise ValueError(f"{self.task_id}: object destinations need destination_key=")
        self.key = key
        self.destination_key = destination_key
        self.sql = sql
        self.source_format = check_format(source_format)
        self.destination_format = check_format(destination_format)

    def execute(self, context: Any) -> dict[str, Any]:
        source_hook, destination_hook = self.hook(self.sources), self.hook(self.destination)
        target_key = str(self.destination_key or self.key)
        with self.permanent_errors_fail_fast():
            if not self.from_tables and not self.to_tables and self._same_format(target_key):
                if self.quality_gate is None:
                    replication, failover = source_hook.copy_to(
                        str(self.key), destination_hook, target_key
                    )
                else:
                    data, failover = self._read_object(source_hook)
                    replication = destination_hook.write(target_key, data)
            else:
                rows, failover = self._read(source_hook)
                if self.to_tables:
                    replication = destination_hook.write_rows(rows, item=self._item(context))
                else:
                    fmt = infer_format(target_key, self.destination_format)
                    replication = destination_hook.write(
                        target_key, from_rows(rows, fmt, getattr(rows, "columns", None))
                    )
        return self.finish(
            context,
            sources=self.sources,
            source_item=None if self.from_tables else self.key,
            failover=failover,
            replicas=self.destination,
            replica_item=None if self.to_tables else target_key,
            replication=replication,
        )

    def _same_format(self, target_key: str) -> bool:
        """Bytes can go through untouched: no format change is asked for (an unnamed format
        on either side means none), so the copy is the source's bytes, not a re-serialisation."""
        source = _format_of(str(self.key), self.source_format)
        target = _format_of(target_key, self.destination_format)
        return source is None or target is None or source == target

    def _read_object(self, hook: Any) -> tuple[bytes, Any]:
        """The source object's bytes, checked by the gate (if any) but passed on as read."""
        gate = self.quality_gate
        fmt = infer_format(str(self.key), self.source_format) if gate else ""
        validator: Validator | None = (
            (lambda data: gate.validate(to_frame(data, fmt))) if gate else None
        )
        data, report = hook.read(str(self.key), validator=validator)
        return data, report

    def _read(self, hook: Any) -> tuple[list[dict[str, Any]], Any]:
        gate = self.quality_gate
        if self.from_tables:
            validator: Validator | None = (
                (lambda rows: gate.validate(rows_frame(rows, rows.columns))) if gate else None
            )
            return hook.query(self.sql or self._select_all(), validator=validator)
        data, report = self._read_object(hook)
        return to_rows(data, infer_format(str(self.key), self.source_format)), report

    def _select_all(self) -> str:
        """The whole source table; identifiers are validated, so plain names are safe."""
        first = self.sources.endpoints[0]
        names = [first.options.get("schema"), first.options["table"]]
        return "SELECT * FROM " + ".".join(
            check_identifier(n, "identifier", first.name) for n in names if n
        )

    def _item(self, context: Any) -> str:
        return f"{self.dag_id}/{context['run_id']}/{self.task_id}"


def _format_of(key: str, declared: str | None) -> str | None:
    """The declared or suffix-named format, or None when neither names one."""
    try:
        return infer_format(key, declared)
    except FormatError:
        if declared:
            raise
        return None
