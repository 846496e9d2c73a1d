"""Corruption on the way in is caught by verification; on the way out, by the reader."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_spof import chaos
from airflow_spof.core.errors import ChecksumMismatch, ErrorClass, InvalidData, classify
from airflow_spof.core.failover import FailoverPolicy, failover
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.hooks.backend import open_backend
from airflow_spof.hooks.sql_rows import rows_checksum


@pytest.mark.parametrize(
    ("db", "count"),
    [("pg1", 30), ("pg1", 600), ("maria", 30), ("lite", 30)],
    ids=["pg1-row-by-row", "pg1-copy", "maria", "lite"],
)
def test_corrupted_write_is_caught_and_rolled_back(
    tables: Any, rows: Any, db: str, count: int
) -> None:
    """30 rows go row by row; 600 (in batches of 200) through PostgreSQL's COPY path."""
    backend = open_backend(tables.endpoint(db, batch_size=200))
    original = backend.upsert(rows(20))

    with chaos.inject(f"{db}=corrupt"), pytest.raises(ChecksumMismatch) as caught:
        backend.upsert(rows(count, tag="v2"))

    assert classify(caught.value) is ErrorClass.INVALID_DATA
    assert "rolled back" in str(caught.value)
    assert tables.count(db) == 20  # nothing of the failed write was committed
    assert backend.checksum() == original.checksum


def test_corrupted_read_falls_back_to_a_good_replica(tables: Any, rows: Any) -> None:
    data = rows(40)
    endpoints = [tables.endpoint("pg1"), tables.endpoint("pg2")]
    backends = {ep.name: open_backend(ep) for ep in endpoints}
    acks = {name: b.upsert(data) for name, b in backends.items()}
    expected = acks["pg1"].checksum

    def validate(result: list[dict[str, Any]]) -> dict[str, Any]:
        """What a DAG does with a write's acknowledged checksum: accept only that content."""
        actual = rows_checksum(result)
        if actual != expected:
            raise InvalidData(f"rows checksum {actual[:12]} != acknowledged {expected[:12]}")
        return {"rows": len(result)}

    with chaos.inject("pg1=corrupt"):
        result, report = failover(
            endpoints,
            lambda ep: backends[ep.name].query("SELECT * FROM {table} ORDER BY id"),
            validator=validate,
            policy=FailoverPolicy(retry=RetryPolicy(attempts=1)),
        )

    assert report.served_by == "pg2"
    assert report.attempts[0].error_class is ErrorClass.INVALID_DATA
    assert len(result) == 40 and rows_checksum(result) == expected
