"""Read a stream once, feed it to several writers at once, in bounded memory.

Memory is ``depth x chunk size`` per writer, whatever the payload size. A
writer that stops consuming for ``stall_timeout`` is cut loose (its stream
raises) so one hung replica cannot stall the others; a failing source makes
every stream raise, so no replica commits a truncated object.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sized
from typing import Generic, TypeVar

from airflow_spof.core.errors import TransientError

_END = object()
Chunk = TypeVar("Chunk", bound=Sized)


class ReplicaStalled(TransientError):
    """A writer stopped taking data and was dropped from the fan-out."""


class SourceFailed(TransientError):
    """The source stream broke; no writer may commit what it got so far."""


class FanOut(Generic[Chunk]):
    """One producer thread, one bounded queue per consumer.

    Chunks are usually ``bytes``; batches of rows work the same way.
    """

    def __init__(
        self, source: Iterable[Chunk], consumers: int, depth: int = 2, stall_timeout: float = 30.0
    ) -> None:
        if consumers < 1:
            raise ValueError("fan-out needs at least one consumer")
        self._source = source
        self._queues: list[queue.Queue[object]] = [
            queue.Queue(maxsize=depth) for _ in range(consumers)
        ]
        self._alive = [True] * consumers
        self._stall_timeout = stall_timeout
        self._started = threading.Event()
        self._lock = threading.Lock()
        self.bytes_read = 0
        """The total ``len()`` of the chunks read: bytes, or rows for batches."""
        self.source_error: BaseException | None = None

    def stream(self, index: int) -> Iterator[Chunk]:
        """The chunks for consumer ``index``; starts the producer on first use."""
        self._start()
        q = self._queues[index]
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            self.abandon(index)

    def abandon(self, index: int) -> None:
        """A consumer is done or gave up: stop feeding it and unblock the producer."""
        self._alive[index] = False
        _drain(self._queues[index])

    def _start(self) -> None:
        with self._lock:
            if not self._started.is_set():
                self._started.set()
                threading.Thread(target=self._produce, name="spof-fanout", daemon=True).start()

    def _produce(self) -> None:
        try:
            for chunk in self._source:
                self.bytes_read += len(chunk)
                for index, q in enumerate(self._queues):
                    self._put(index, q, chunk)
                if not any(self._alive):
                    return
        except Exception as exc:
            self.source_error = exc
            for index, q in enumerate(self._queues):
                self._put(index, q, SourceFailed(f"source stream failed: {exc}"))
            return
        for index, q in enumerate(self._queues):
            self._put(index, q, _END)

    def _put(self, index: int, q: queue.Queue[object], item: object) -> None:
        if not self._alive[index]:
            return
        try:
            q.put(item, timeout=self._stall_timeout)
        except queue.Full:
            self._alive[index] = False
            _drain(q)
            q.put(ReplicaStalled(f"writer {index} took no data for {self._stall_timeout}s"))


def _drain(q: queue.Queue[object]) -> None:
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass
