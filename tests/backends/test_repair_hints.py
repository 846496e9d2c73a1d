"""Hints must survive until the write they record is repaired, under every key spelling.

Two replicas at ``write_consistency="one"``: when the first replica misses a
write, only its hint stops repair from treating the two versions as a tie,
which the first-listed replica (the stale one) would win.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Replicas, fs, sql
from airflow_spof.core.failover import FailoverPolicy
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.replicated import ReplicatedHook


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.dispose()


def fs_pair(tmp_path: Path) -> Replicas:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return Replicas(
        fs(str(tmp_path / "a"), name="a"),
        fs(str(tmp_path / "b"), name="b"),
        write_consistency="one",
    )


def hook_for(replicas: Replicas, store: StateStore) -> ReplicatedHook:
    return ReplicatedHook(replicas, store=store, event_context={}, straggler_timeout=5)


@pytest.mark.parametrize("spelling", ["logs//day.txt", "logs/day.txt/"])
def test_a_hint_under_another_spelling_of_the_key_still_protects_the_newer_version(
    tmp_path: Path, store: StateStore, spelling: str
) -> None:
    hook = hook_for(fs_pair(tmp_path), store)
    hook.write("logs/day.txt", b"v1")
    with chaos.inject("a=down"):
        report = hook.write(spelling, b"v2")  # the same object, written as the DAG spelled it
    assert report.lagging == ["a"]

    repaired = hook.repair()

    assert repaired.converged
    assert (tmp_path / "a" / "logs/day.txt").read_bytes() == b"v2"
    assert (tmp_path / "b" / "logs/day.txt").read_bytes() == b"v2"


def test_repair_of_a_prefix_keeps_the_hints_of_items_outside_it(
    tmp_path: Path, store: StateStore
) -> None:
    hook = hook_for(fs_pair(tmp_path), store)
    hook.write("x/k", b"v1")
    with chaos.inject("a=down"):
        hook.write("x/k", b"v2")

    hook.repair(prefix="y/")  # nothing under y/: the hint for x/k was not acted on
    assert [(h.endpoint, h.item) for h in store.pending_hints(hook.replicas.name)] == [("a", "x/k")]

    hook.repair()
    assert (tmp_path / "a" / "x/k").read_bytes() == b"v2"
    assert (tmp_path / "b" / "x/k").read_bytes() == b"v2"


def test_hints_of_a_replica_whose_connection_could_not_be_prepared_stay_pending(
    tmp_path: Path, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = {name: tmp_path / f"{name}.db" for name in ("a", "b")}
    for path in paths.values():
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPOF_AUDIT_A", '{"conn_type": "sqlite", "host": "' + str(paths["a"]) + '"}'
    )
    replicas = Replicas(
        sql("spof_audit_a", table="t", key="id", name="a"),
        sql(f"sqlite:///{paths['b']}", table="t", key="id", name="b"),
        write_consistency="one",
    )
    hook_for(replicas, store).write_rows([{"id": 1, "v": "v1"}])
    with chaos.inject("a=down"):
        hook_for(replicas, store).write_rows([{"id": 1, "v": "v2"}])

    monkeypatch.delenv("AIRFLOW_CONN_SPOF_AUDIT_A")  # a's connection is gone during repair
    report = hook_for(replicas, store).repair()
    assert "a" in report.unreachable
    assert [h.endpoint for h in store.pending_hints(replicas.name)] == ["a"]

    monkeypatch.setenv(
        "AIRFLOW_CONN_SPOF_AUDIT_A", '{"conn_type": "sqlite", "host": "' + str(paths["a"]) + '"}'
    )
    assert hook_for(replicas, store).repair().converged
    for path in paths.values():
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT id, v FROM t").fetchall() == [(1, "v2")]


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(
            FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=0.3)),
            id="abandoned-at-its-attempt-timeout",
        ),
        pytest.param(
            FailoverPolicy(retry=RetryPolicy(attempts=1), hedge_after=0.2),
            id="lost-the-hedge-race",
        ),
    ],
)
def test_a_copy_given_up_on_never_lands_later(
    tmp_path: Path, store: StateStore, policy: FailoverPolicy
) -> None:
    """copy_to gives up on the slow first source (at its attempt timeout, or when a hedged
    attempt on the next source wins) and copies from the next one; the attempt left running
    must not then overwrite the destination with the slow source's data."""
    for name, content in (("a", b"old"), ("b", b"new")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "k").write_bytes(content)
    (tmp_path / "dst").mkdir()
    sources = ReplicatedHook(
        Replicas(fs(str(tmp_path / "a"), name="a"), fs(str(tmp_path / "b"), name="b")),
        store=store,
        event_context={},
        failover_policy=policy,
    )
    destination = hook_for(Replicas(fs(str(tmp_path / "dst"), name="dst")), store)
    before = set(threading.enumerate())

    with chaos.inject("a=slow:0.6s"):
        _, failover = sources.copy_to("k", destination)
        assert failover.served_by == "b"
        assert (tmp_path / "dst" / "k").read_bytes() == b"new"
        for thread in set(threading.enumerate()) - before:  # the attempt given up on
            thread.join(timeout=10)
            assert not thread.is_alive()

    assert (tmp_path / "dst" / "k").read_bytes() == b"new"


def test_a_write_missed_again_while_repair_runs_keeps_its_hint(
    tmp_path: Path, store: StateStore
) -> None:
    """A hint is one row per (set, endpoint, item). If the replica misses the item again after
    repair read its hints but before repair settles them, settling must not drop that newer
    miss: with no hint left, the next repair would see a tie and the stale copy, listed
    first, would overwrite the acknowledged one."""
    from airflow_spof.hooks.repair import repair

    hook = hook_for(fs_pair(tmp_path), store)
    hook.write("k", b"v1")
    with chaos.inject("a=down"):
        hook.write("k", b"v2")
    backends = {ep.name: hook.backend(ep) for ep in hook.replicas}

    # ReplicatedHook.repair, phase by phase: read the hints, converge, then settle.
    hints = store.pending_hints(hook.replicas.name)
    report, settled = repair(hook.replicas.name, backends, list(hook.replicas), hints)
    assert report.converged and (tmp_path / "a" / "k").read_bytes() == b"v2"
    with chaos.inject("a=down"):  # the same item misses "a" again before repair settles
        assert hook.write("k", b"v3").lagging == ["a"]
    store.resolve_hints(settled)

    assert [(h.endpoint, h.item) for h in store.pending_hints(hook.replicas.name)] == [("a", "k")]
    assert hook.repair().converged
    assert (tmp_path / "a" / "k").read_bytes() == b"v3"
    assert (tmp_path / "b" / "k").read_bytes() == b"v3"
