"""W-of-N replication: success at W, hints for the rest, never success below W."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_spof import Replicas, fs
from airflow_spof.core.replication import ConsistencyNotReached, WriteAck, replicate
from airflow_spof.core.state import StateStore


def replicas(n: int, consistency="quorum") -> Replicas:
    return Replicas(
        *(fs(f"/r{i}", region=f"region-{i}") for i in range(n)),
        write_consistency=consistency,
        name="orders",
    )


def writer(failing: set[str]):
    def write(endpoint) -> WriteAck:
        if endpoint.name in failing:
            raise ConnectionRefusedError(f"{endpoint.name} down")
        return WriteAck(checksum="abc", size=3)

    return write


def test_quorum_reached_records_hints_for_lagging_replicas(store: StateStore) -> None:
    reps = replicas(3)
    report = replicate(reps, writer({"fs:/r1"}), item="2026/11/28.csv", store=store)
    assert report.reached and report.degraded
    assert report.acknowledged == ["fs:/r0", "fs:/r2"] and report.lagging == ["fs:/r1"]
    hints = store.pending_hints("orders")
    assert [(h.endpoint, h.item) for h in hints] == [("fs:/r1", "2026/11/28.csv")]
    assert report.outcomes[1].hinted


def test_below_w_raises_naming_each_replica_and_records_no_success(store) -> None:
    with pytest.raises(ConsistencyNotReached) as err:
        replicate(replicas(3), writer({"fs:/r0", "fs:/r1"}), item="k", store=store)
    message = str(err.value)
    assert "reached 1 of the 2" in message and "fs:/r0: transient" in message
    assert not err.value.report.reached
    assert store.pending_hints() == []


def test_all_consistency_fails_on_any_outage() -> None:
    with pytest.raises(ConsistencyNotReached):
        replicate(replicas(3, "all"), writer({"fs:/r2"}), item="k")


def test_stragglers_are_bounded_and_hinted(store) -> None:
    release = threading.Event()

    def write(endpoint) -> WriteAck:
        if endpoint.name == "fs:/r2":
            release.wait(30)
        return WriteAck()

    try:
        report = replicate(replicas(3), write, item="k", store=store, straggler_timeout=0.1)
    finally:
        release.set()
    assert report.reached and report.lagging == ["fs:/r2"]
    assert "abandoned" in report.outcomes[2].message
    assert [h.endpoint for h in store.pending_hints()] == ["fs:/r2"]


def test_replicas_are_written_in_parallel() -> None:
    barrier = threading.Barrier(3, timeout=5)  # deadlocks unless all three run at once

    def write(endpoint) -> WriteAck:
        barrier.wait()
        return WriteAck()

    assert replicate(replicas(3, "all"), write, item="k").reached


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 6), data=st.data())
def test_reached_exactly_when_acks_meet_w(n: int, data) -> None:
    consistency = data.draw(st.sampled_from(["one", "quorum", "all", *range(1, n + 1)]))
    reps = replicas(n, consistency)
    failing = set(data.draw(st.lists(st.sampled_from([e.name for e in reps]), unique=True)))
    acks = n - len(failing)
    if acks >= reps.required_acks:
        report = replicate(reps, writer(failing), item="k")
        assert report.reached and len(report.acknowledged) == acks
        assert set(report.lagging) == failing
    else:
        with pytest.raises(ConsistencyNotReached):
            replicate(reps, writer(failing), item="k")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_hint_missed_again_after_it_was_read_is_not_settled(
    backend: str, state_url: Callable[[str, str], str]
) -> None:
    """Repair settles the hints it read; a further miss of the same item since then is a
    newer version of the one hint row and must stay pending, with the oldest miss's age."""
    url = state_url(backend, "hints")
    store = StateStore.from_url(url)
    try:
        store.add_hint("orders", "fs:/r1", "k", "refused")
        [read] = store.pending_hints("orders")
        store.add_hint("orders", "fs:/r1", "k", "refused again")

        assert store.resolve_hints([read]) == 0
        [pending] = store.pending_hints("orders")
        assert (pending.id, pending.created_at) == (read.id, read.created_at)
        assert pending.version > read.version and pending.reason == "refused again"
        assert store.resolve_hints([pending]) == 1
        assert store.pending_hints("orders") == []
    finally:
        store.dispose()


def test_a_hints_table_from_before_versions_gets_its_version_column(tmp_path) -> None:
    """A state store created by an earlier release keeps recording and settling hints."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE spof_hints (id INTEGER PRIMARY KEY, replica_set VARCHAR(512) NOT"
                " NULL, endpoint VARCHAR(512) NOT NULL, item VARCHAR(1024) NOT NULL, reason"
                " VARCHAR(500), created_at FLOAT NOT NULL, CONSTRAINT uq_spof_hint UNIQUE"
                " (replica_set, endpoint, item))"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO spof_hints (replica_set, endpoint, item, reason, created_at)"
                " VALUES ('orders', 'fs:/r1', 'old', 'refused', 1.0)"
            )
        )
    engine.dispose()
    store = StateStore.from_url(url)
    try:
        store.add_hint("orders", "fs:/r1", "new", "refused")
        hints = store.pending_hints("orders")
        assert [(h.item, h.version) for h in hints] == [("old", 1), ("new", 1)]
        assert store.resolve_hints(hints) == 2
    finally:
        store.dispose()
