"""Do a replica set's replicas hold the same data? Repair, then compare fingerprints.

An object replica's fingerprint digests its whole inventory (key -> checksum);
a table replica's digests every row's fingerprint. Equal fingerprints on every
replica mean equal data; an unreachable replica never counts as converged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from airflow_spof.core.endpoints import Replicas


@dataclass
class Convergence:
    replica_set: str
    fingerprints: dict[str, str]
    items: dict[str, int] = field(default_factory=dict)
    repair: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        values = set(self.fingerprints.values())
        return len(values) == 1 and not any(v.startswith("unreachable") for v in values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "replica_set": self.replica_set,
            "converged": self.converged,
            "fingerprints": self.fingerprints,
            "items": self.items,
            "repaired": len(self.repair.get("repaired", [])),
            "hints_resolved": self.repair.get("hints_resolved", 0),
        }


def fingerprints(replicas: Replicas, prefix: str = "") -> Convergence:
    """Each replica's fingerprint (``unreachable: <error>`` when it cannot be read)."""
    from airflow_spof.hooks.backend import TableBackend
    from airflow_spof.hooks.replicated import ReplicatedHook

    hook = ReplicatedHook(replicas, event_context={})
    result = Convergence(replicas.name, {})
    for endpoint in replicas:
        try:
            backend = hook.backend(endpoint)
            holdings: dict[Any, str] = (
                backend.fingerprints()
                if isinstance(backend, TableBackend)
                else backend.inventory(prefix)
            )
        except Exception as exc:
            result.fingerprints[endpoint.name] = f"unreachable: {type(exc).__name__}"
            continue
        digest = hashlib.sha256(repr(sorted((repr(k), v) for k, v in holdings.items())).encode())
        result.fingerprints[endpoint.name] = f"sha256:{digest.hexdigest()[:16]}"
        result.items[endpoint.name] = len(holdings)
    return result


def repair_and_compare(replicas: Replicas, prefix: str = "") -> Convergence:
    """Run repair now, then fingerprint every replica."""
    from airflow_spof.hooks.replicated import ReplicatedHook

    repair = ReplicatedHook(replicas, event_context={}).repair(prefix=prefix)
    result = fingerprints(replicas, prefix)
    result.repair = repair.to_dict()
    return result
