"""Values computed at most once per key, however many threads ask for them at once.

Replicas of one write run in parallel and reach the same piece of work (a part's
hash, a batch's checksum) at about the same time: the first computes it, the
others wait for its result instead of repeating the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Once(Generic[K, V]):
    """A thread-safe memo: ``get(key, compute)`` runs ``compute`` only for the first caller.

    With ``keep=N`` only the N most recently added keys are remembered, which bounds
    memory when the values are large (a caller that falls further behind computes
    its value again).
    """

    def __init__(self, keep: int | None = None) -> None:
        self._results: dict[K, Future[V]] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            future = self._results.get(key)
            owner = future is None
            if future is None:
                future = self._results[key] = Future()
                if self._keep is not None and len(self._results) > self._keep:
                    del self._results[next(iter(self._results))]  # the oldest
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
                raise
        return future.result()
