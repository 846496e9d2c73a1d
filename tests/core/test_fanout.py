"""One read of the source feeds every writer, in bounded memory, and failures stay contained."""

from __future__ import annotations

import hashlib
import threading

import pytest

from airflow_spof.core.fanout import FanOut, ReplicaStalled, SourceFailed
from airflow_spof.testing.waiting import wait_until


def chunks(n: int, size: int = 1024):
    for i in range(n):
        yield bytes([i % 256]) * size


def drain(stream) -> str:
    digest = hashlib.sha256()
    for chunk in stream:
        digest.update(chunk)
    return digest.hexdigest()


def run_consumers(fan: FanOut, consumers):
    results: dict[int, object] = {}

    def run(i, consume):
        try:
            results[i] = consume(fan.stream(i))
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(consumers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_every_writer_gets_the_whole_stream_and_the_source_is_read_once() -> None:
    reads = []

    def source():
        for chunk in chunks(200):
            reads.append(1)
            yield chunk

    fan = FanOut(source(), consumers=3)
    results = run_consumers(fan, [drain] * 3)
    assert len(set(results.values())) == 1 and len(reads) == 200
    assert fan.bytes_read == 200 * 1024


def test_queues_are_bounded_by_depth() -> None:
    fan = FanOut(chunks(300), consumers=2, depth=3)
    seen_sizes: list[int] = []

    def slow(stream):
        for _ in stream:
            seen_sizes.append(max(q.qsize() for q in fan._queues))
        return "done"

    results = run_consumers(fan, [slow, drain])
    assert results[0] == "done" and max(seen_sizes) <= 3


def test_a_stalled_writer_is_dropped_and_the_others_finish() -> None:
    fan = FanOut(chunks(50), consumers=2, depth=2, stall_timeout=0.2)

    def stall(stream):
        next(stream)
        wait_until(lambda: not fan._alive[1], timeout=5, what="the stalled writer to be dropped")
        return list(stream)

    results = run_consumers(fan, [drain, stall])
    assert isinstance(results[0], str)
    assert isinstance(results[1], ReplicaStalled)


def test_a_failing_source_fails_every_writer() -> None:
    def broken():
        yield b"x" * 10
        raise ConnectionResetError("source went away")

    results = run_consumers(FanOut(broken(), consumers=2), [drain, drain])
    assert all(isinstance(r, SourceFailed) for r in results.values())


def test_needs_a_consumer() -> None:
    with pytest.raises(ValueError):
        FanOut(chunks(1), consumers=0)
