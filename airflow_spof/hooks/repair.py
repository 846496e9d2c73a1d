"""Anti-entropy: make every reachable replica hold the agreed version of every item.

The agreed version of an item is the one most replicas hold, not counting
replicas with a pending hint for it (they are known to have missed a
write); ties go to the replica listed first. Items missing from a replica
are copied to it: without tombstones, a missing item means a missed write,
and a repair must never delete data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import describe
from airflow_spof.core.state import Hint
from airflow_spof.hooks.backend import Backend, ObjectBackend, TableBackend


@dataclass
class RepairReport:
    replica_set: str
    checked: int = 0
    repaired: list[dict[str, Any]] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    hints_resolved: int = 0
    elapsed_ms: float = 0.0

    @property
    def converged(self) -> bool:
        """All replicas were reachable and now agree."""
        return not self.unreachable

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "repair",
            "replica_set": self.replica_set,
            "checked": self.checked,
            "repaired": self.repaired,
            "unreachable": self.unreachable,
            "hints_resolved": self.hints_resolved,
            "converged": self.converged,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


Staleness = Callable[[str, Hashable], bool]


def agreed_versions(
    holdings: Mapping[str, Mapping[Hashable, str]],
    order: Sequence[str],
    is_stale: Staleness,
) -> dict[Hashable, tuple[str, str]]:
    """item -> (version, a replica holding it) for every item any replica holds."""
    items: set[Hashable] = (
        set().union(*(h.keys() for h in holdings.values())) if holdings else set()
    )
    agreed: dict[Hashable, tuple[str, str]] = {}
    for item in items:
        votes: Counter[str] = Counter()
        first_holder: dict[str, str] = {}
        for name in order:
            version = holdings.get(name, {}).get(item)
            if version is None:
                continue
            first_holder.setdefault(version, name)
            if not is_stale(name, item):
                votes[version] += 1
        if not votes:  # only stale replicas hold it: they are all we have
            votes.update({v: 1 for v in first_holder})
        best = max(votes.values())
        winner = next(
            v
            for v in sorted(first_holder, key=lambda v: order.index(first_holder[v]))
            if votes[v] == best
        )
        agreed[item] = (winner, first_holder[winner])
    return agreed


def repair(
    name: str,
    backends: Mapping[str, Backend],
    order: Sequence[Endpoint],
    hints: Sequence[Hint],
    prefix: str = "",
    secrets: Sequence[str] = (),
) -> tuple[RepairReport, list[Hint]]:
    """Converge the replicas; return the report and the hints now settled."""
    started = time.monotonic()
    report = RepairReport(replica_set=name)
    holdings: dict[str, dict[Hashable, str]] = {}
    for endpoint in order:
        try:
            holdings[endpoint.name] = _holdings(backends[endpoint.name], prefix)
        except Exception as exc:
            report.unreachable[endpoint.name] = describe(exc, secrets)
    names = [ep.name for ep in order if ep.name in holdings]
    agreed = agreed_versions(holdings, names, _staleness(hints, backends))
    report.checked = len(agreed)
    plan: dict[tuple[str, str], list[Hashable]] = {}
    for item, (version, source) in sorted(agreed.items(), key=lambda kv: str(kv[0])):
        for target in names:
            if holdings[target].get(item) != version:
                plan.setdefault((source, target), []).append(item)
    for (source, target), items in plan.items():
        try:
            _copy(backends[source], backends[target], items)
        except Exception as exc:
            report.unreachable[target] = describe(exc, secrets)
            continue
        report.repaired.extend(
            {
                "endpoint": target,
                "item": _show(item),
                "from": source,
                "action": "updated" if item in holdings[target] else "copied",
            }
            for item in items
        )
    settled = [h for h in hints if _settled_by(h, backends, holdings, report.unreachable, prefix)]
    report.hints_resolved = len(settled)
    report.elapsed_ms = (time.monotonic() - started) * 1000
    return report, settled


def _settled_by(
    hint: Hint,
    backends: Mapping[str, Backend],
    listed: Mapping[str, Mapping[Hashable, str]],
    unreachable: Mapping[str, str],
    prefix: str,
) -> bool:
    """Settle a hint only if this run compared and repaired what it names: its replica was
    listed and reached, and (objects) its key lies under ``prefix``. Dropping any other hint
    would let a later repair count the stale copy as a vote equal to the agreed one."""
    if hint.endpoint not in listed or hint.endpoint in unreachable:
        return False
    return isinstance(backends[hint.endpoint], TableBackend) or hint.item.startswith(prefix)


def _holdings(backend: Backend, prefix: str) -> dict[Hashable, str]:
    listing: Mapping[Any, str] = (
        backend.fingerprints() if isinstance(backend, TableBackend) else backend.inventory(prefix)
    )
    return dict(listing)


def _staleness(hints: Sequence[Hint], backends: Mapping[str, Backend]) -> Staleness:
    """Object hints name the key a replica missed; a table hint makes the whole table suspect."""
    stale_items = {(h.endpoint, h.item) for h in hints}
    stale_tables = {h.endpoint for h in hints if isinstance(backends.get(h.endpoint), TableBackend)}
    return lambda name, item: name in stale_tables or (name, item) in stale_items


def _copy(source: Backend, target: Backend, items: list[Hashable]) -> None:
    if isinstance(source, TableBackend) and isinstance(target, TableBackend):
        keys = [item if isinstance(item, tuple) else (item,) for item in items]
        for start in range(0, len(keys), 1000):
            target.upsert(source.fetch(keys[start : start + 1000]))
    elif isinstance(source, ObjectBackend) and isinstance(target, ObjectBackend):
        for item in items:
            target.write(str(item), source.read(str(item)))
    else:
        raise TypeError(
            f"cannot repair between {type(source).__name__} and {type(target).__name__}"
        )


def _show(item: Hashable) -> Any:
    return list(item) if isinstance(item, tuple) else item
