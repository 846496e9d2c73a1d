"""Probe targets for availability checks: data endpoints, HTTP services and TCP ports.

Data endpoints (``s3()``, ``sql()``, ``fs()``) are probed through their
backend, so a probe sees exactly what a read would. HTTP and TCP targets
cover the upstreams that are not data stores (an API, a broker port). Every
target is plain data with a ``to_dict()`` form, so a trigger can carry it
across the triggerer boundary.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlsplit

from airflow_spof import chaos
from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError
from airflow_spof.core.errors import TransientError, describe
from airflow_spof.hooks.backend import Backend, TableBackend, Timeouts, open_backend


class ProbeFailed(TransientError):
    """The target answered, but not the way a healthy one does (status, query result)."""


def _templated(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass
class HttpTarget:
    """An HTTP(S) URL, or a path on the host of an Airflow ``http`` connection.

    Healthy when the response status is in ``expect_status`` (default: any
    status below 400). Redirects are not followed: a 3xx is an answer.
    """

    url: str
    name: str
    conn_id: str | None = None
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    region: str | None = None

    template_fields: ClassVar[tuple[str, ...]] = ("url",)
    type: ClassVar[str] = "http"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "url": self.url,
            "name": self.name,
            "conn_id": self.conn_id,
            "method": self.method,
            "expect_status": list(self.expect_status),
            "region": self.region,
        }


@dataclass
class TcpTarget:
    """A ``host:port`` that must accept a TCP connection (brokers, databases, SSH)."""

    host: str
    port: int
    name: str
    region: str | None = None
    conn_id: None = field(default=None, init=False, repr=False)

    template_fields: ClassVar[tuple[str, ...]] = ("host",)
    type: ClassVar[str] = "tcp"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "host": self.host,
            "port": self.port,
            "name": self.name,
            "region": self.region,
        }


Target = Endpoint | HttpTarget | TcpTarget


def http(
    url: str,
    *,
    conn_id: str | None = None,
    name: str | None = None,
    method: str = "GET",
    expect_status: int | Iterable[int] = (),
    region: str | None = None,
) -> HttpTarget:
    """An HTTP target: ``http("https://api.example.com/health")`` or
    ``http("/health", conn_id="my_api")`` (host, port, login and headers from the connection).

    URLs must not carry user:password credentials (they are refused); a token a health
    endpoint only takes in the query (``?access_token=...``) is kept out of the target's
    name and masked in logs and rendered fields, but belongs in a connection.
    """
    if not isinstance(url, str) or not url:
        raise ReplicaSetError("http target: url is required")
    if not _templated(url):
        if conn_id is None:
            _check_absolute_url(url)
        elif "://" in url:
            raise ReplicaSetError(
                f"http target {url!r}: with conn_id the url is a path on the connection's host "
                "(e.g. '/health'); drop conn_id to probe an absolute URL"
            )
    method = method.upper()
    if method not in ("GET", "HEAD", "OPTIONS"):
        raise ReplicaSetError(f"http target {url!r}: method must be GET, HEAD or OPTIONS")
    statuses = (expect_status,) if isinstance(expect_status, int) else tuple(expect_status)
    for status in statuses:
        if not 100 <= status <= 599:
            raise ReplicaSetError(f"http target {url!r}: {status} is not an HTTP status")
    default_name = f"http:{conn_id}{url}" if conn_id else f"http:{_display_url(url)}"
    mask_query_credentials(url)
    return HttpTarget(
        url=url,
        name=name or default_name,
        conn_id=conn_id,
        method=method,
        expect_status=statuses,
        region=region,
    )


def tcp(host: str, port: int, *, name: str | None = None, region: str | None = None) -> TcpTarget:
    """A TCP target: ``tcp("broker.internal", 9092)`` is healthy when the port accepts."""
    if not host or not isinstance(host, str):
        raise ReplicaSetError("tcp target: host is required")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ReplicaSetError(f"tcp target {host!r}: port must be an integer 1-65535, got {port!r}")
    return TcpTarget(host=host, port=port, name=name or f"tcp:{host}:{port}", region=region)


def _check_absolute_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReplicaSetError(
            f"http target {url!r}: expected an absolute http:// or https:// URL with a host "
            "(or a path together with conn_id=...)"
        )
    if parts.username or parts.password:
        raise ReplicaSetError(
            f"http target {_display_url(url)!r}: the URL carries credentials; put them in an "
            "Airflow http connection and use http(path, conn_id=...)"
        )
    try:
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError as exc:
        raise ReplicaSetError(f"http target {url!r}: {exc}") from None


_CREDENTIAL_WORDS = frozenset(
    {"token", "key", "apikey", "secret", "password", "passwd", "pwd", "sig", "signature"}
    | {"auth", "credential", "credentials", "session", "sessionid"}
)
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def mask_query_credentials(url: str) -> None:
    """Mask credential-looking query values (``?access_token=...``, ``apiKey``,
    ``X-Amz-Signature``) in task logs and rendered fields: some health endpoints take a
    token no other way."""
    from airflow.sdk.log import mask_secret

    for name, value in parse_qsl(urlsplit(url).query):
        words = {word.lower() for word in _WORD_BREAK.split(name)}
        if value and words & _CREDENTIAL_WORDS:
            mask_secret(value)


def _display_url(url: str) -> str:
    """The URL without credentials, query or fragment (those may carry tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url


def flatten_targets(items: Iterable[Any] | Target) -> list[Target]:
    """Targets from endpoints, replica sets and http()/tcp() targets; names must be unique."""
    if isinstance(items, (Endpoint, HttpTarget, TcpTarget)):
        items = [items]
    found: list[Target] = []
    for item in items:
        if isinstance(item, Replicas):
            found.extend(item.endpoints)
        elif isinstance(item, (Endpoint, HttpTarget, TcpTarget)):
            found.append(item)
        else:
            raise ReplicaSetError(
                f"cannot probe {item!r}: use s3()/sql()/fs() endpoints, a Replicas set, "
                "http(url) or tcp(host, port)"
            )
    names = [t.name for t in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ReplicaSetError(f"targets listed more than once: {', '.join(duplicates)}")
    return found


def target_to_dict(target: Target) -> dict[str, Any]:
    if isinstance(target, Endpoint):
        return {"type": "endpoint", **target.to_dict()}
    return target.to_dict()


def target_from_dict(data: Mapping[str, Any]) -> Target:
    fields = dict(data)
    kind = fields.pop("type")
    if kind == "endpoint":
        return Endpoint.from_dict(fields)
    if kind == "http":
        fields["expect_status"] = tuple(fields.get("expect_status") or ())
        return HttpTarget(**fields)
    if kind == "tcp":
        return TcpTarget(**fields)
    raise ValueError(f"unknown probe target type {kind!r}")


def required_available(min_available: int | str, targets: int) -> int:
    """How many targets must be healthy: an int, ``"one"``, ``"quorum"`` or ``"all"``."""
    if targets < 1:
        raise ReplicaSetError("nothing to probe: give at least one target")
    if isinstance(min_available, bool):
        raise ReplicaSetError(
            f"min_available must be an int or one/quorum/all, not {min_available}"
        )
    if isinstance(min_available, int):
        if not 1 <= min_available <= targets:
            raise ReplicaSetError(
                f"min_available={min_available} can never be met with {targets} target(s); "
                f"use 1..{targets}, 'quorum' or 'all'"
            )
        return min_available
    counts = {"one": 1, "quorum": targets // 2 + 1, "all": targets}
    if min_available not in counts:
        raise ReplicaSetError(
            f"unknown min_available {min_available!r}; use an integer, 'one', 'quorum' or 'all'"
        )
    return counts[min_available]


@dataclass(frozen=True)
class ProbeResult:
    name: str
    healthy: bool
    latency_ms: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "healthy": self.healthy,
            "latency_ms": round(self.latency_ms, 3),
            "detail": self.detail,
        }


class Prober:
    """Runs one probe of a target within its timeouts and never raises.

    ``sql_query`` replaces ``SELECT 1`` on SQL endpoints (``{table}`` is the
    endpoint's table); the endpoint is healthy when the query returns a row
    whose first value is true-ish, so ``SELECT count(*) > 0 FROM {table}`` works.
    """

    def __init__(self, timeouts: Timeouts | None = None, sql_query: str | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self.sql_query = sql_query
        self._backends: dict[str, Backend] = {}

    def probe(self, target: Target) -> ProbeResult:
        started = time.monotonic()
        secrets: list[str] = []
        try:
            detail = self._check(target, secrets)
            healthy = True
        except Exception as exc:
            healthy, detail = False, describe(exc, secrets)
        return ProbeResult(target.name, healthy, (time.monotonic() - started) * 1000, detail)

    def _check(self, target: Target, secrets: list[str]) -> str:
        if isinstance(target, Endpoint):
            return self._check_endpoint(target, secrets)
        # Fault injection matches on name, conn_id and region, which every target has.
        chaos.before(cast(Endpoint, target), "probe", timeout=self.timeouts.connect)
        if isinstance(target, TcpTarget):
            with socket.create_connection((target.host, target.port), self.timeouts.connect):
                return "accepted a TCP connection"
        return self._check_http(target, secrets)

    def _check_endpoint(self, endpoint: Endpoint, secrets: list[str]) -> str:
        backend = self._backends.get(endpoint.name)
        if backend is None:
            backend = self._backends[endpoint.name] = open_backend(endpoint, self.timeouts)
        secrets.extend(backend.secrets)
        if self.sql_query and isinstance(backend, TableBackend):
            rows = backend.query(self.sql_query)
            first = next(iter(rows[0].values()), None) if rows else None
            if not first:
                raise ProbeFailed(f"{endpoint.name}: probe query returned {first!r}, not true")
            return f"probe query returned {first!r}"
        backend.probe()
        return "ok"

    def _check_http(self, target: HttpTarget, secrets: list[str]) -> str:
        import httpx

        url: str = target.url
        auth: tuple[str, str] | None = None
        headers: dict[str, str] = {}
        if target.conn_id:
            url, auth, headers = _from_connection(target, secrets)
        else:
            _check_absolute_url(url)
        mask_query_credentials(url)  # a templated token is only known once rendered
        timeout = httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect)
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(target.method, url, auth=auth, headers=headers) as response,
        ):
            status = response.status_code
        accepted = status in target.expect_status if target.expect_status else status < 400
        if not accepted:
            raise ProbeFailed(f"{target.name}: HTTP {status}")
        return f"HTTP {status}"


def _from_connection(
    target: HttpTarget, secrets: list[str]
) -> tuple[str, tuple[str, str] | None, dict[str, str]]:
    """Base URL, basic auth and headers (string extras) of an Airflow ``http`` connection."""
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret

    conn = BaseHook.get_connection(cast(str, target.conn_id))
    host = conn.host or ""
    if "://" not in host:
        host = f"{conn.schema or 'http'}://{host}"
    if conn.port:
        host = f"{host.rstrip('/')}:{conn.port}"
    if conn.password:
        mask_secret(conn.password)
        secrets.append(conn.password)
    auth = (conn.login, conn.password or "") if conn.login else None
    headers = {k: v for k, v in conn.extra_dejson.items() if isinstance(v, str)}
    for value in headers.values():
        secrets.append(value)
    return f"{host.rstrip('/')}/{target.url.lstrip('/')}", auth, headers


def probe_all(prober: Prober, targets: Iterable[Target]) -> list[ProbeResult]:
    """Probe every target at once, so one slow target costs one timeout, not one each."""
    from concurrent.futures import ThreadPoolExecutor

    items = list(targets)
    with ThreadPoolExecutor(
        max_workers=min(8, len(items)), thread_name_prefix="spof-probe"
    ) as pool:
        return list(pool.map(prober.probe, items))


def record_health(store: Any, results: Iterable[ProbeResult]) -> None:
    """Share the outcome: failover holds back endpoints a recent probe found unhealthy."""
    for result in results:
        store.record_health(result.name, result.healthy, result.latency_ms, result.detail)
