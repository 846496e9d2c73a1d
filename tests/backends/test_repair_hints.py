"""Hints must survive until the write they record is repaired, under every key spelling.

Two replicas at ``write_consistency="one"``: when the first replica misses a
write, only its hint stops repair from treating the two versions as a tie,
which the first-listed replica (the stale one) would win.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Replicas, fs
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
