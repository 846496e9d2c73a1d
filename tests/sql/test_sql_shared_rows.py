"""Rows written to several replicas: sent rows hashed once, read-backs checked per replica."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Replicas
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.hooks.sql_rows import Digest, RowHasher, SharedRows, batches, rows_checksum


class CountingHasher(RowHasher):
    """Counts the rows it hashes: how many times the sent rows were hashed in all."""

    def __init__(self, columns: Any) -> None:
        super().__init__(columns)
        self.rows = 0
        self._lock = threading.Lock()

    def __call__(self, row: Mapping[str, Any]) -> int:
        with self._lock:
            self.rows += 1
        return super().__call__(row)


def hook_for(replicas: Replicas, store: StateStore) -> ReplicatedHook:
    return ReplicatedHook(
        replicas, store=store, timeouts=Timeouts(connect=5, read=30), event_context={}
    )


def test_each_batch_is_hashed_once_for_concurrent_replicas(rows: Any) -> None:
    data = rows(50)
    shared = SharedRows(data)
    hasher = CountingHasher(list(data[0]))
    start = threading.Barrier(3)
    totals: list[str] = []

    def replica() -> None:
        start.wait()
        total = Digest()
        for batch in batches(shared, 20):
            total.merge(shared.sent(total.count, batch, hasher))
        totals.append(total.checksum)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.rows == 50  # not 150
    assert totals == [rows_checksum(data)] * 3


def test_only_rows_every_replica_can_reread_are_shared(rows: Any) -> None:
    assert SharedRows.accepts(rows(3)) and SharedRows.accepts(pd.DataFrame(rows(3)))
    assert not SharedRows.accepts(iter(rows(3)))  # each replica would get other rows
    assert not SharedRows.accepts({"id": 1})
    with pytest.raises(TypeError):
        SharedRows(row for row in rows(3))


@pytest.mark.parametrize("shape", ["list", "dataframe"])
def test_replicas_with_other_batch_sizes_all_acknowledge_the_sent_rows(
    tables: Any, rows: Any, store: StateStore, shape: str
) -> None:
    data = rows(230)
    replicas = Replicas(
        tables.endpoint("pg1", batch_size=7),
        tables.endpoint("pg2", batch_size=100),
        tables.endpoint("maria", batch_size=100),
        tables.endpoint("lite"),
        write_consistency="all",
    )
    payload = pd.DataFrame(data) if shape == "dataframe" else data
    report = hook_for(replicas, store).write_rows(payload)
    expected = rows_checksum(data)
    assert [(o.ok, o.checksum, o.size) for o in report.outcomes] == [(True, expected, 230)] * 4
    assert [tables.count(db) for db in ("pg1", "pg2", "maria", "lite")] == [230] * 4


def test_a_corrupted_replica_is_still_caught_and_rolled_back(
    tables: Any, rows: Any, store: StateStore
) -> None:
    """The shared sent checksum does not vouch for a replica: its own read-back must match."""
    replicas = Replicas(tables.endpoint("pg1"), tables.endpoint("pg2"), write_consistency="one")
    with chaos.inject("pg2=corrupt"):
        report = hook_for(replicas, store).write_rows(rows(40))
    pg1, pg2 = report.outcomes
    assert pg1.ok and pg1.checksum == rows_checksum(rows(40))
    assert not pg2.ok and pg2.error_class is ErrorClass.INVALID_DATA
    assert "rolled back" in (pg2.message or "")
    assert (tables.count("pg1"), tables.count("pg2")) == (40, 0)


def test_a_one_shot_iterator_reaches_every_replica_whole(
    tables: Any, rows: Any, store: StateStore
) -> None:
    """A generator can be read only once: it is fanned out, not handed to each replica."""
    data = rows(2500)  # several fan-out batches
    replicas = Replicas(
        tables.endpoint("pg1"),
        tables.endpoint("pg2"),
        tables.endpoint("lite"),
        write_consistency="all",
    )
    report = hook_for(replicas, store).write_rows(row for row in data)
    expected = rows_checksum(data)
    assert [(o.ok, o.checksum, o.size) for o in report.outcomes] == [(True, expected, 2500)] * 3
    assert [tables.count(db) for db in ("pg1", "pg2", "lite")] == [2500] * 3


def test_a_one_shot_iterator_that_breaks_commits_nowhere(
    tables: Any, rows: Any, store: StateStore
) -> None:
    def broken() -> Any:
        yield from rows(1500)
        raise ConnectionResetError("source cursor lost")

    replicas = Replicas(tables.endpoint("pg1"), tables.endpoint("lite"), write_consistency="one")
    with pytest.raises(ConnectionResetError, match="source cursor lost"):
        hook_for(replicas, store).write_rows(broken())
    assert (tables.count("pg1"), tables.count("lite")) == (0, 0)
