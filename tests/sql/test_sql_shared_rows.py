"""Rows written to several replicas: sent rows hashed once, read-backs checked per replica."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Replicas
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.hooks.sql_batches import write_batches
from airflow_spof.hooks.sql_rows import Digest, SharedRows, rows_checksum


class CountingRows(SharedRows):
    """Counts how many times a batch is prepared (normalised, checked, hashed, encoded)."""

    def __init__(self, rows: Any) -> None:
        super().__init__(rows)
        self.prepared = 0
        self._lock = threading.Lock()

    def batch(self, start: int, size: int, variant: Any, prepare: Any) -> Any:
        def counted(rows: list[dict[str, Any]]) -> Any:
            with self._lock:
                self.prepared += 1
            return prepare(rows)

        return super().batch(start, size, variant, counted)


def hook_for(replicas: Replicas, store: StateStore) -> ReplicatedHook:
    return ReplicatedHook(
        replicas, store=store, timeouts=Timeouts(connect=5, read=30), event_context={}
    )


def test_each_batch_is_prepared_once_for_concurrent_replicas(rows: Any) -> None:
    data = rows(50)
    shared = CountingRows(data)
    start = threading.Barrier(3)
    seen: list[tuple[str, int, list[bytes]]] = []

    def replica() -> None:
        start.wait()
        total, lines = Digest(), []
        for batch in write_batches(shared, 20, ("id",), text=True):
            total.merge(batch.digest)
            assert batch.text is not None
            lines.extend(batch.text.lines)
        seen.append((total.checksum, total.count, lines))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared.prepared == 3  # 3 batches of 20, 20 and 10 rows; not 9
    assert len(seen) == 3 and all(s == seen[0] for s in seen)
    assert seen[0][:2] == (rows_checksum(data), 50) and len(seen[0][2]) == 50


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
