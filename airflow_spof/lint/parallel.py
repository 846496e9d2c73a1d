"""Lint a large tree on several cores: fork, split the files, collect through pipes.

The parent lints one share itself while ``jobs - 1`` forked children lint the others,
so a run on 2 cores starts one extra process, not a pool (no executor threads, no
per-chunk pickling, nothing re-imported). Files are dealt out round-robin, which
balances trees of similar files; results come back in the original order.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

Outcome = TypeVar("Outcome")


class WorkerFailed(RuntimeError):
    """A forked worker raised or died; the message says which and why."""


def run_forked(
    files: list[Path], jobs: int, work: Callable[[list[Path]], list[Outcome]]
) -> list[Outcome]:
    """``work`` over every file, split across ``jobs`` processes (this one included)."""
    shares = [files[index::jobs] for index in range(jobs)]
    children: list[tuple[int, int]] = []
    try:
        for share in shares[1:]:
            children.append(_fork(share, work))
        results = [work(shares[0])]
    finally:
        collected = [_collect(pid, fd) for pid, fd in children]  # never leave a child behind
    for result in collected:
        if isinstance(result, WorkerFailed):
            raise result
        results.append(result)
    outcomes: list[Outcome] = []
    for position in range(len(files)):
        outcomes.append(results[position % jobs][position // jobs])
    return outcomes


def _fork(share: list[Path], work: Callable[[list[Path]], list[Any]]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits without returning
        os.close(read_fd)
        status = 0
        try:
            payload: tuple[str, Any] = ("ok", work(share))
        except BaseException as exc:  # report every failure to the parent
            payload, status = ("error", f"{type(exc).__name__}: {exc}"), 1
        try:
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> list[Any] | WorkerFailed:
    with os.fdopen(read_fd, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return WorkerFailed(f"lint worker {pid} died (wait status {status})")
    kind, value = pickle.loads(data)
    if kind != "ok":
        return WorkerFailed(f"lint worker {pid} failed: {value}")
    result: list[Any] = value
    return result
