"""What happened, attempt by attempt: small JSON-ready records for XCom, events and the UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_spof.core.errors import ErrorClass


@dataclass
class Attempt:
    """One try of one endpoint during a failover read."""

    endpoint: str
    outcome: str  # "ok" | "failed" | "skipped" ("running" only while a try is under way)
    latency_ms: float = 0.0
    error_class: ErrorClass | None = None
    message: str = ""
    hedged: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_class"] = self.error_class.value if self.error_class else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        error_class = data.get("error_class")
        return cls(**{**data, "error_class": ErrorClass(error_class) if error_class else None})


@dataclass
class FailoverReport:
    """Which endpoint served a read, and why the ones before it did not."""

    served_by: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    state_available: bool = True
    elapsed_ms: float = 0.0
    quality: dict[str, Any] | None = None

    @property
    def fell_back(self) -> bool:
        """True when the data did not come from the first endpoint tried or skipped."""
        return bool(self.attempts) and self.served_by != self.attempts[0].endpoint

    @property
    def fallback_from(self) -> list[str]:
        """Endpoints passed over before the one that served, in order."""
        seen: list[str] = []
        for attempt in self.attempts:
            if attempt.endpoint == self.served_by:
                if attempt.outcome == "ok":
                    break
                continue  # retried, then served: not passed over
            if attempt.endpoint not in seen:
                seen.append(attempt.endpoint)
        return seen

    def attempts_at(self, endpoint: str) -> list[Attempt]:
        return [a for a in self.attempts if a.endpoint == endpoint and a.outcome != "skipped"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "failover",
            "served_by": self.served_by,
            "fell_back": self.fell_back,
            "fallback_from": self.fallback_from,
            "attempts": [a.to_dict() for a in self.attempts],
            "state_available": self.state_available,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "quality": self.quality,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FailoverReport:
        return cls(
            served_by=data.get("served_by"),
            attempts=[Attempt.from_dict(a) for a in data.get("attempts", [])],
            state_available=data.get("state_available", True),
            elapsed_ms=data.get("elapsed_ms", 0.0),
            quality=data.get("quality"),
        )


@dataclass
class ReplicaOutcome:
    """The result of writing to one replica."""

    endpoint: str
    ok: bool
    latency_ms: float = 0.0
    error_class: ErrorClass | None = None
    message: str = ""
    checksum: str | None = None
    size: int | None = None  # bytes for objects, rows for tables
    hinted: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_class"] = self.error_class.value if self.error_class else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicaOutcome:
        error_class = data.get("error_class")
        return cls(**{**data, "error_class": ErrorClass(error_class) if error_class else None})


@dataclass
class ReplicationReport:
    """Which replicas acknowledged a write, against the consistency it needed."""

    replica_set: str
    item: str
    required: int
    outcomes: list[ReplicaOutcome] = field(default_factory=list)
    state_available: bool = True
    elapsed_ms: float = 0.0

    @property
    def acknowledged(self) -> list[str]:
        return [o.endpoint for o in self.outcomes if o.ok]

    @property
    def lagging(self) -> list[str]:
        return [o.endpoint for o in self.outcomes if not o.ok]

    @property
    def reached(self) -> bool:
        return len(self.acknowledged) >= self.required

    @property
    def degraded(self) -> bool:
        """Consistency reached, but some replica missed the write."""
        return self.reached and bool(self.lagging)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "replication",
            "replica_set": self.replica_set,
            "item": self.item,
            "required": self.required,
            "acknowledged": self.acknowledged,
            "lagging": self.lagging,
            "reached": self.reached,
            "degraded": self.degraded,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "state_available": self.state_available,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplicationReport:
        return cls(
            replica_set=data["replica_set"],
            item=data["item"],
            required=data["required"],
            outcomes=[ReplicaOutcome.from_dict(o) for o in data.get("outcomes", [])],
            state_available=data.get("state_available", True),
            elapsed_ms=data.get("elapsed_ms", 0.0),
        )
