"""Endpoints and replica sets: what a DAG declares once, validated at parse time."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["s3", "sql", "fs"]
Consistency = Literal["one", "quorum", "all"] | int

KINDS: tuple[str, ...] = ("s3", "sql", "fs")


class ReplicaSetError(ValueError):
    """A replica set or endpoint declaration that can never work."""


@dataclass(frozen=True)
class Endpoint:
    """One place data can be read from or written to.

    ``conn_id`` names an Airflow connection (credentials never live here);
    ``location`` is the bucket/prefix, table or directory inside it.
    ``options`` carries kind-specific settings (prefix, schema, key columns).
    """

    name: str
    kind: str
    conn_id: str | None = None
    region: str | None = None
    location: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ReplicaSetError("an endpoint needs a non-empty name")
        if self.kind not in KINDS:
            raise ReplicaSetError(
                f"endpoint {self.name!r}: unknown kind {self.kind!r}; expected one of {KINDS}"
            )
        # Freeze options so endpoints stay hashable and safe to share.
        object.__setattr__(self, "options", dict(self.options))

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.conn_id, self.region, self.location))

    @property
    def identity(self) -> tuple[str, str | None, str]:
        """What makes two endpoints the same physical target.

        A directory has many spellings (``/d/``, ``/d//x``, ``/d/./x``); they are one
        target, or one disk would count as several acknowledgements.
        """
        location = os.path.normpath(self.location) if self.kind == "fs" else self.location
        return (self.kind, self.conn_id, location)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "conn_id": self.conn_id,
            "region": self.region,
            "location": self.location,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Endpoint:
        return cls(
            name=data["name"],
            kind=data["kind"],
            conn_id=data.get("conn_id"),
            region=data.get("region"),
            location=data.get("location", ""),
            options=data.get("options", {}),
        )


def s3(
    conn_id: str,
    *,
    bucket: str,
    region: str | None = None,
    prefix: str = "",
    name: str | None = None,
) -> Endpoint:
    """An S3 (or S3-compatible) bucket reached through an Airflow ``aws`` connection."""
    if not bucket:
        raise ReplicaSetError(f"s3 endpoint on {conn_id!r}: bucket is required")
    location = f"{bucket}/{prefix.strip('/')}".rstrip("/")
    return Endpoint(
        name=name or f"s3:{conn_id}/{location}",
        kind="s3",
        conn_id=conn_id,
        region=region,
        location=location,
        options={"bucket": bucket, "prefix": prefix.strip("/")},
    )


def sql(
    conn_id: str,
    *,
    table: str,
    key: str | Iterable[str] = (),
    schema: str | None = None,
    region: str | None = None,
    name: str | None = None,
) -> Endpoint:
    """A SQL table reached through an Airflow connection (postgres, mysql, sqlite)."""
    if not table:
        raise ReplicaSetError(f"sql endpoint on {conn_id!r}: table is required")
    keys = [key] if isinstance(key, str) else list(key)
    location = f"{schema}.{table}" if schema else table
    return Endpoint(
        name=name or f"sql:{conn_id}/{location}",
        kind="sql",
        conn_id=conn_id,
        region=region,
        location=location,
        options={"table": table, "schema": schema, "key": keys},
    )


def fs(path: str, *, region: str | None = None, name: str | None = None) -> Endpoint:
    """A local or mounted directory."""
    if not path:
        raise ReplicaSetError("fs endpoint: path is required")
    return Endpoint(
        name=name or f"fs:{path}",
        kind="fs",
        conn_id=None,
        region=region,
        location=path,
        options={"path": path},
    )


def required_acks(consistency: Consistency, replicas: int) -> int:
    """How many acknowledgements a write needs: the W of W-of-N."""
    if replicas < 1:
        raise ReplicaSetError("a replica set needs at least one endpoint")
    if isinstance(consistency, bool):
        raise ReplicaSetError(
            f"write_consistency must be one/quorum/all or an int, not {consistency!r}"
        )
    if isinstance(consistency, int):
        if consistency < 1:
            raise ReplicaSetError(f"write_consistency={consistency} must be at least 1")
        if consistency > replicas:
            raise ReplicaSetError(
                f"write_consistency={consistency} exceeds the {replicas} replica(s) in the set"
            )
        return consistency
    if consistency == "one":
        return 1
    if consistency == "quorum":
        return math.floor(replicas / 2) + 1
    if consistency == "all":
        return replicas
    raise ReplicaSetError(
        f"unknown write_consistency {consistency!r}; use 'one', 'quorum', 'all' or an integer"
    )


class Replicas:
    """An ordered set of endpoints holding the same data, with a write consistency.

    Order matters for reads (the first is the primary); writes go to all.
    Every mistake that can be seen without touching the network raises
    :class:`ReplicaSetError` here, so a broken DAG fails at parse time.
    """

    def __init__(
        self,
        *endpoints: Endpoint,
        write_consistency: Consistency = "quorum",
        min_regions: int = 1,
        name: str | None = None,
    ) -> None:
        if len(endpoints) == 1 and isinstance(endpoints[0], (list, tuple)):
            endpoints = tuple(endpoints[0])
        if not endpoints:
            raise ReplicaSetError("a replica set needs at least one endpoint")
        for ep in endpoints:
            if not isinstance(ep, Endpoint):
                raise ReplicaSetError(
                    f"replica set members must be endpoints made by s3()/sql()/fs(), got {ep!r}"
                )
        _reject_duplicates(endpoints)
        self.endpoints: tuple[Endpoint, ...] = tuple(endpoints)
        self.write_consistency = write_consistency
        self.required_acks = required_acks(write_consistency, len(endpoints))
        regions = {ep.region for ep in endpoints if ep.region}
        if min_regions > 1 and min_regions > len(regions):
            raise ReplicaSetError(
                f"replica set needs endpoints in at least {min_regions} distinct regions, "
                f"has {len(regions)} ({', '.join(sorted(regions)) or 'none declared'})"
            )
        self.min_regions = min_regions
        self.name = name or "+".join(ep.name for ep in endpoints)

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(self.endpoints)

    def __len__(self) -> int:
        return len(self.endpoints)

    def __getitem__(self, name: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        raise KeyError(f"no endpoint named {name!r} in replica set {self.name!r}")

    def __repr__(self) -> str:
        names = ", ".join(ep.name for ep in self.endpoints)
        return f"Replicas({names}, write_consistency={self.write_consistency!r})"

    @property
    def kinds(self) -> set[str]:
        return {ep.kind for ep in self.endpoints}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "write_consistency": self.write_consistency,
            "min_regions": self.min_regions,
            "endpoints": [ep.to_dict() for ep in self.endpoints],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Replicas:
        return cls(
            *(Endpoint.from_dict(ep) for ep in data["endpoints"]),
            write_consistency=data.get("write_consistency", "quorum"),
            min_regions=data.get("min_regions", 1),
            name=data.get("name"),
        )


def _reject_duplicates(endpoints: Iterable[Endpoint]) -> None:
    names: set[str] = set()
    targets: dict[tuple[str, str | None, str], str] = {}
    for ep in endpoints:
        if ep.name in names:
            raise ReplicaSetError(f"duplicate endpoint name {ep.name!r} in replica set")
        names.add(ep.name)
        if ep.identity in targets:
            raise ReplicaSetError(
                f"endpoints {targets[ep.identity]!r} and {ep.name!r} are the same target "
                f"({ep.kind} {ep.location!r} on connection {ep.conn_id!r})"
            )
        targets[ep.identity] = ep.name
