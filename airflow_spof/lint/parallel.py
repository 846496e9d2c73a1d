"""Lint a large tree on several cores: fork, share the files out, collect through pipes.

The parent lints like any worker while ``jobs - 1`` forked children lint too, so a run
on 2 cores starts one extra process, not a pool (no executor threads, nothing
re-imported). The files are cut into small chunks: process ``k`` first takes chunk
``k``, then every process takes the next free chunk from a shared queue (a pipe of
chunk numbers), so a process that gets less CPU (other load on the machine, larger
files) simply takes fewer chunks instead of making the others wait for it. Results
come back in the original order.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

Outcome = TypeVar("Outcome")

CHUNKS_PER_JOB = 24
"""About this many chunks per process: the last one to finish waits for at most one."""
_MAX_CHUNKS = 1024  # queued up front: 4 KiB of chunk numbers fits any pipe buffer
_INDEX = 4  # bytes per chunk number in the queue; a pipe read of it is atomic

Done = list[tuple[int, list[Any]]]


class WorkerFailed(RuntimeError):
    """A forked worker raised or died; the message says which and why."""


def run_forked(
    files: list[Path], jobs: int, work: Callable[[list[Path]], list[Outcome]]
) -> list[Outcome]:
    """``work`` over every file, split across ``jobs`` processes (this one included)."""
    size = max(1, -(-len(files) // min(jobs * CHUNKS_PER_JOB, _MAX_CHUNKS)))
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    queue_read, queue_write = os.pipe()
    try:
        # Chunks 0..jobs-1 are each process's first; the rest are taken on demand. At most
        # _MAX_CHUNKS numbers, well within a pipe's buffer, so this write never blocks.
        os.write(queue_write, b"".join(_number(i) for i in range(jobs, len(chunks))))
    finally:
        os.close(queue_write)
    children: list[tuple[int, int]] = []
    try:
        for first in range(1, jobs):
            children.append(_fork(chunks, first, queue_read, work))
        done: Done = _drain(chunks, 0, queue_read, work)
    finally:
        os.close(queue_read)
        collected = [_collect(pid, fd) for pid, fd in children]  # never leave a child behind
    for result in collected:
        if isinstance(result, WorkerFailed):
            raise result
        done.extend(result)
    outcomes: list[Outcome] = []
    for _, part in sorted(done, key=lambda pair: pair[0]):
        outcomes.extend(part)
    return outcomes


def _number(index: int) -> bytes:
    return index.to_bytes(_INDEX, "little")


def _drain(
    chunks: list[list[Path]], first: int, queue: int, work: Callable[[list[Path]], list[Any]]
) -> Done:
    """This process's first chunk, then free chunks from the queue until it is empty."""
    done: Done = [(first, work(chunks[first]))] if first < len(chunks) else []
    while raw := os.read(queue, _INDEX):
        index = int.from_bytes(raw, "little")
        done.append((index, work(chunks[index])))
    return done


def _fork(
    chunks: list[list[Path]],
    first: int,
    queue: int,
    work: Callable[[list[Path]], list[Any]],
) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits without returning
        os.close(read_fd)
        status = 0
        try:
            payload: tuple[str, Any] = ("ok", _drain(chunks, first, queue, work))
        except BaseException as exc:  # report every failure to the parent
            payload, status = ("error", f"{type(exc).__name__}: {exc}"), 1
        try:
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> Done | WorkerFailed:
    with os.fdopen(read_fd, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return WorkerFailed(f"lint worker {pid} died (wait status {status})")
    kind, value = pickle.loads(data)
    if kind != "ok":
        return WorkerFailed(f"lint worker {pid} failed: {value}")
    result: Done = value
    return result
