"""AvailabilityTrigger: waits in the triggerer, holding no worker slot, until enough targets answer.

Its kwargs are plain JSON (targets as dicts, an absolute deadline), so a
restarted triggerer resumes the same wait with the same deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.probes import (
    Prober,
    ProbeResult,
    Target,
    record_health,
    target_from_dict,
)
from airflow_spof.settings import state_store


class AvailabilityTrigger(BaseTrigger):
    """Probe ``targets`` every ``poke_interval`` seconds until ``required`` are healthy.

    Fires ``{"status": "available", "healthy": [...], "results": [...]}`` when
    enough answer, or ``{"status": "timeout", ...}`` once ``deadline`` (epoch
    seconds) has passed. Each round's health goes to the shared state store.
    """

    def __init__(
        self,
        targets: Sequence[dict[str, Any]],
        required: int,
        deadline: float,
        poke_interval: float = 30.0,
        sql_query: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self.targets = [dict(t) for t in targets]
        self.required = required
        self.deadline = deadline
        self.poke_interval = poke_interval
        self.sql_query = sql_query
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "targets": self.targets,
                "required": self.required,
                "deadline": self.deadline,
                "poke_interval": self.poke_interval,
                "sql_query": self.sql_query,
                "connect_timeout": self.connect_timeout,
                "read_timeout": self.read_timeout,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        prober = Prober(Timeouts(self.connect_timeout, self.read_timeout), self.sql_query)
        targets: list[Target] = [target_from_dict(t) for t in self.targets]
        while True:
            results = await self._probe_round(prober, targets)
            healthy = [r.name for r in results if r.healthy]
            summary = [r.to_dict() for r in results]
            if len(healthy) >= self.required:
                yield TriggerEvent({"status": "available", "healthy": healthy, "results": summary})
                return
            remaining = self.deadline - time.time()
            if remaining <= 0:
                yield TriggerEvent({"status": "timeout", "healthy": healthy, "results": summary})
                return
            self.log.info(
                "%d of %d required targets healthy; down: %s",
                len(healthy),
                self.required,
                "; ".join(f"{r.name} ({r.detail})" for r in results if not r.healthy),
            )
            await asyncio.sleep(min(self.poke_interval, remaining))

    async def _probe_round(self, prober: Prober, targets: list[Target]) -> list[ProbeResult]:
        """All targets at once, in threads: the backends are synchronous."""
        results = await asyncio.gather(*(asyncio.to_thread(prober.probe, t) for t in targets))
        await asyncio.to_thread(record_health, state_store(), results)
        return list(results)
