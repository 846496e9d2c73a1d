"""Shared judgements about tasks: what they connect to, read, write and pin.

Rules ask these questions; keeping the answers here keeps rules short and
lets the static engine and the cluster policy agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from airflow_spof.lint.model import UNKNOWN, PartialStr, ReplicaSet, Task
from airflow_spof.lint.static.paths import strings_in, without_prints

REPLICATED_OPERATORS = frozenset(
    {
        "ReplicatedWriteOperator",
        "FailoverTransferOperator",
        "FailoverSqlOperator",
        "ReplicaRepairOperator",
    }
)
AVAILABILITY_SENSORS = frozenset({"UpstreamAvailabilitySensor", "FreshnessSensor"})
NOOP_OPERATORS = frozenset({"EmptyOperator", "DummyOperator", "LatestOnlyOperator"})

_TRANSFER = re.compile(r"^(?P<src>[A-Z][A-Za-z0-9]*?)To(?P<dst>[A-Z][A-Za-z0-9]*)Operator$")
_READ_OPERATORS = re.compile(
    r"^(Simple)?Http(Operator)?$|^HttpOperator$|SQLExecuteQuery|Sql|SQL|Postgres|MySql|Mssql|"
    r"Oracle|Snowflake|Redshift(Data|Sql)|Trino|Presto|Hive|BigQuery|Athena|S3List|S3FileTransform|"
    r"SFTPOperator|FTPFileTransmit|Download|Extract|Fetch"
)
_URL = re.compile(
    # not a scheme wrapping another URL (spark.master="k8s://https://host:6443")
    r"\b([a-z][a-z0-9+.-]*)://(?![a-z][a-z0-9+.-]*://)([^\s/'\"{}?#]+)",
    re.IGNORECASE,
)
_IPV4 = re.compile(
    # not a version: ``lib==1.2.3.4``, ``v1.2.3.4``, ``--version 2.10.0.3``, ``tag=1.0.0.1``
    r"(?<![\d.v])(?<![=<>~!]=)(?<!version )(?<!version=)(?<!tag )(?<!tag=)"
    r"(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"
)
_OBJECT_STORE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "wasb", "wasbs", "file", "adl"}
    | {"unix", "npipe"}  # a local socket (unix://var/run/docker.sock), not a host
)
_HOSTNAME = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?|[a-z0-9-]+\d")
_BLUR = re.compile(r"\{\{.*?\}\}|\{\?\}|\$\{?\w+\}?")
_HOST_KWARGS = frozenset({"remote_host", "host", "hostname", "base_url", "url", "server"})
_DOC_KWARGS = frozenset(
    {"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "owner_links", "email", "description"}
    | {"subject", "html_content", "message", "text", "blocks", "attachments"}
)
"""Arguments read by people (docs, a mail or chat message): a URL there is a link."""
_NOT_HOST_KWARGS = _DOC_KWARGS | {"task_id"}  # a name, even one like "10.0.0.1"
_LOOPBACK = re.compile(r"(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|\[::1\])(:\d+)?", re.IGNORECASE)
"""The worker itself (a sidecar, a local proxy): no other machine to fail over to."""
_LOCAL_PREFIXES = ("/tmp", "/var/tmp", "/dev/shm", "~", "./", "../")


def conn_ids(task: Task) -> list[str]:
    """Literal connection ids the task names (``*_conn_id`` kwargs and task-body calls)."""
    cached: list[str] | None = task.memo.get("conn_ids")
    if cached is None:
        cached = task.memo["conn_ids"] = _conn_ids(task)
    return cached


def _arguments(task: Task) -> Iterator[tuple[str, Any]]:
    """The task's arguments, then those of a hook it is given (``ssh_hook=SSHHook(...)``)."""
    hooks = []
    for key, value in task.kwargs.items():
        yield key, value
        if type(value) is dict and str(value.get("__kind__", "")).endswith("Hook"):
            hooks.append(value)
    for hook in hooks:
        yield from hook.items()


def _conn_ids(task: Task) -> list[str]:
    found: list[str] = []
    for key, value in _arguments(task):
        if "conn_id" not in key:
            continue
        if key == "conn_id" or key.endswith("_conn_id"):
            if isinstance(value, str) and value and not isinstance(value, PartialStr):
                found.append(value)
        elif key.endswith("_conn_ids") and isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, str))
    found.extend(task.body_conn_ids)
    return list(dict.fromkeys(found))


def has_fallback(task: Task) -> bool:
    """Replicas, a failover operator, or a replica-aware hook count as a fallback."""
    if task.uses_replicas or task.operator in REPLICATED_OPERATORS:
        return True
    cached: bool | None = task.memo.get("replica_valued")
    if cached is None:
        cached = task.memo["replica_valued"] = _holds_replica_set(task.kwargs)
    return cached


def is_availability_sensor(task: Task) -> bool:
    return task.operator in AVAILABILITY_SENSORS


def is_guard(task: Task) -> bool:
    """A task that checks a source before it is read: any sensor."""
    return task.is_sensor or task.operator in AVAILABILITY_SENSORS


def reads_external(task: Task) -> bool:
    """Does the task read from a system outside Airflow (transfer, query, HTTP GET)?"""
    if task.is_sensor or task.operator in NOOP_OPERATORS:
        return False
    if task.is_taskflow or task.body_reads_external:  # a body or python_callable read
        return task.body_reads_external
    if not conn_ids(task):
        return False
    match = _TRANSFER.match(task.operator)
    if match:
        return not match.group("src").startswith(("Local", "File"))
    if "Http" in task.operator:
        method = task.get("method", "GET")
        return not isinstance(method, str) or method.upper() == "GET"
    if _READ_OPERATORS.search(task.operator):
        sql = task.get("sql")
        statements = [sql] if isinstance(sql, str) else sql
        if not isinstance(statements, (list, tuple)) or not all(
            isinstance(s, str) for s in statements
        ):
            return True
        return any("select" in s.lower() or "copy" in s.lower() for s in statements)
    return False


def literal_hosts(task: Task) -> list[str]:
    """Hosts, IPs and URLs written into arguments instead of a connection."""
    cached: list[str] | None = task.memo.get("literal_hosts")
    if cached is None:
        cached = task.memo["literal_hosts"] = _literal_hosts(task)
    return cached


def _literal_hosts(task: Task) -> list[str]:
    hosts: list[str] = list(task.body_hosts)
    for key, value in _arguments(task):
        if key in task.from_default_args or key in _NOT_HOST_KWARGS:
            continue
        for text in (value,) if isinstance(value, str) else strings_in(value):
            if key == "bash_command":
                text = without_prints(text)
            found = hosts_in_text(text)
            hosts.extend(found)
            if key in _HOST_KWARGS and not found and _looks_like_host(text):
                hosts.append(text)
    return list(dict.fromkeys(hosts))


def hosts_in_text(text: str) -> list[str]:
    if "{{" in text and "conn." in text:
        return []
    found = (
        [
            m.group(2)
            for m in _URL.finditer(text)
            if m.group(1).lower() not in _OBJECT_STORE_SCHEMES and "{" not in m.group(2)
        ]
        if "://" in text
        else []
    )
    found = [host for host in found if not _LOOPBACK.fullmatch(host)]
    if not found and "." in text:
        found = [
            ip
            for ip in _IPV4.findall(text)
            if all(int(p) < 256 for p in ip.split(".")) and not _LOOPBACK.fullmatch(ip)
        ]
    return found


def _looks_like_host(text: str) -> bool:
    return _HOSTNAME.fullmatch(text) is not None


def is_local_path(path: str, shared_prefixes: list[str]) -> bool:
    """A path on the worker's own disk (not a shared mount the config names)."""
    if any(path.startswith(p.rstrip("/") + "/") or path == p for p in shared_prefixes):
        return False
    return path.startswith(_LOCAL_PREFIXES) or (path.startswith("/") and path.count("/") >= 2)


def same_location(a: str, b: str) -> bool:
    """Paths equal after templating is blurred, or one is a directory of the other."""
    na, nb = _blur(a), _blur(b)
    if na == nb:
        return True
    short, long_ = sorted((na, nb), key=len)
    return long_.startswith(short.rstrip("/") + "/") and short.count("/") >= 2


def _blur(path: str) -> str:
    return _BLUR.sub("*", path).rstrip("/")


def seconds(value: Any) -> float | None:
    """Durations arrive as timedelta or numbers of seconds; None when unknown."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def pinned_hosts(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Hostnames a pod spec pins to (node_selector, node_name, required affinity)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            k = str(key).replace("_", "").lower()
            if k == "nodeselector" and isinstance(inner, dict):
                host = inner.get("kubernetes.io/hostname")
                if isinstance(host, str):
                    found.append(host)
            elif k == "nodename" and isinstance(inner, str) and inner:
                found.append(inner)
            elif k in {"matchexpressions", "matchfields"} and _required(path):
                found.extend(_expression_hosts(inner))
            else:
                found.extend(pinned_hosts(inner, (*path, k)))
    elif isinstance(value, (list, tuple)):
        for inner in value:
            found.extend(pinned_hosts(inner, path))
    return found


def _required(path: tuple[str, ...]) -> bool:
    return any(part.startswith("required") for part in path) and not any(
        part.startswith("preferred") for part in path
    )


def _expression_hosts(expressions: Any) -> list[str]:
    hosts: list[str] = []
    for expr in expressions if isinstance(expressions, (list, tuple)) else []:
        if not isinstance(expr, dict):
            continue
        key = expr.get("key")
        values = expr.get("values")
        operator = str(expr.get("operator", "In"))
        if (
            key in {"kubernetes.io/hostname", "metadata.name"}
            and operator == "In"
            and isinstance(values, (list, tuple))
            and len(values) == 1
            and isinstance(values[0], str)
        ):
            hosts.append(values[0])
    return hosts


def _holds_replica_set(value: Any, depth: int = 0) -> bool:
    """A ReplicaSet among the values, up to three containers deep."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return False
    for inner in items:
        if isinstance(inner, ReplicaSet):
            return True
        if (
            depth < 2
            and isinstance(inner, (dict, list, tuple))
            and _holds_replica_set(inner, depth + 1)
        ):
            return True
    return False


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN
