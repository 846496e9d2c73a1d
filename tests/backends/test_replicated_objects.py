"""ReplicatedHook over two S3 regions and a directory: outage, hint, repair, re-run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_spof import chaos
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.failover import FailoverPolicy
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.replicated import ReplicatedHook

MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.dispose()


def make_hook(replicas3, store: StateStore) -> ReplicatedHook:
    return ReplicatedHook(
        replicas3.replicas("quorum"),
        store=store,
        timeouts=Timeouts(connect=2, read=5),
        failover_policy=FailoverPolicy(retry=RetryPolicy(attempts=1)),
        straggler_timeout=10,
        event_context={},
    )


def inventories(hook: ReplicatedHook, replicas3) -> list[dict[str, str]]:
    return [hook.backend(ep).inventory() for ep in replicas3.all]  # type: ignore[union-attr]


def test_outage_hint_repair_and_rerun(replicas3, store: StateStore) -> None:
    hook = make_hook(replicas3, store)
    payload = (hashlib.sha256(b"x").digest() * 400_000)[: 9 * MiB]  # multipart at 8 MiB parts
    hook.write("before.bin", payload)
    replicas3.regions["eu-west-1"].kill()

    report = hook.write("during.bin", payload[: 3 * MiB])
    assert report.lagging == [replicas3.euw1.name]
    assert [h.endpoint for h in store.pending_hints(hook.replicas.name)] == [replicas3.euw1.name]

    replicas3.regions["eu-west-1"].restart().create_bucket(replicas3.bucket)
    repaired = hook.repair()
    assert repaired.converged, repaired.to_dict()
    first, *others = inventories(hook, replicas3)
    assert set(first) == {"before.bin", "during.bin"}
    assert all(inv == first for inv in others)  # byte-identical by SHA-256
    assert not store.pending_hints(hook.replicas.name)
    data, _ = hook.read("before.bin")
    assert data == payload

    again = hook.write("before.bin", payload)  # re-run: nothing duplicated, nothing changed
    assert not again.lagging
    assert inventories(hook, replicas3) == [first, first, first]


def test_corrupt_primary_falls_back_to_the_next_replica(replicas3, store: StateStore) -> None:
    hook = make_hook(replicas3, store)
    hook.write("k", b"verified bytes")
    with chaos.inject(f"{replicas3.use1.name}=corrupt"):
        data, report = hook.read("k")
    assert data == b"verified bytes"
    assert report.served_by == replicas3.euw1.name
    assert report.attempts[0].error_class is ErrorClass.INVALID_DATA


def test_replica_that_missed_a_write_does_not_block_reads(replicas3, store: StateStore) -> None:
    """The primary region was down during the write and came back empty: read falls back."""
    hook = make_hook(replicas3, store)
    hook.write("warm", b"x")  # open every backend while all regions are up
    replicas3.regions["us-east-1"].kill()
    hook.write("k", b"written while us-east-1 was down")
    replicas3.regions["us-east-1"].restart().create_bucket(replicas3.bucket)
    data, report = hook.read("k")
    assert data == b"written while us-east-1 was down"
    assert report.served_by == replicas3.euw1.name
    assert report.attempts[0].error_class is ErrorClass.INVALID_DATA


def test_a_source_that_breaks_mid_stream_fails_over_without_a_partial_copy(
    replicas3, store: StateStore, tmp_path: Path
) -> None:
    """copy_to streams source -> replicas; bad bytes found at the end of the stream abort
    every destination write, and the next source is streamed instead."""
    from airflow_spof import Replicas, fs

    payload = (hashlib.sha256(b"y").digest() * 300_000)[: 6 * MiB]
    sources = ReplicatedHook(
        Replicas(replicas3.use1, replicas3.euw1),
        store=store,
        event_context={},
        failover_policy=FailoverPolicy(retry=RetryPolicy(attempts=1)),
    )
    sources.write("big.bin", payload)
    destination = ReplicatedHook(
        Replicas(
            fs(str(tmp_path / "d1"), region="a"),
            fs(str(tmp_path / "d2"), region="b"),
            write_consistency="all",
        ),
        store=store,
        event_context={},
    )
    with chaos.inject(f"{replicas3.use1.name}=corrupt"):
        replication, failover = sources.copy_to("big.bin", destination)
    assert failover.served_by == replicas3.euw1.name
    assert failover.attempts[0].error_class is ErrorClass.INVALID_DATA
    assert replication.reached and not replication.lagging
    for directory in ("d1", "d2"):
        assert (tmp_path / directory / "big.bin").read_bytes() == payload

    # Under another key, streamed the same way: nothing lands under the source's key.
    with chaos.inject(f"{replicas3.use1.name}=corrupt"):
        replication, failover = sources.copy_to("big.bin", destination, "copies/renamed.bin")
    assert failover.served_by == replicas3.euw1.name
    assert replication.item == "copies/renamed.bin" and not replication.lagging
    for directory in ("d1", "d2"):
        assert (tmp_path / directory / "copies" / "renamed.bin").read_bytes() == payload
