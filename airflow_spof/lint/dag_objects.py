"""Reduce parsed Airflow DAG and operator objects to the linter's facts.

Duck-typed on purpose (getattr, no airflow import) so the cluster policy and
the static engine judge a DAG by exactly the same rules.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from airflow_spof.lint.model import Dag, Endpoint, Location, ReplicaSet, Task
from airflow_spof.lint.rules.classify import REPLICATED_OPERATORS
from airflow_spof.lint.static.paths import operator_paths
from airflow_spof.lint.static.taskflow import analyze_body, combined, lambda_function, methods_run
from airflow_spof.lint.static.values import BodyFacts

_ATTRIBUTES = (
    "retries",
    "execution_timeout",
    "queue",
    "executor",
    "pool",
    "executor_config",
    "depends_on_past",
    "wait_for_downstream",
    "mode",
    "timeout",
    "deferrable",
    "wait_for_completion",
    "node_selector",
    "affinity",
    "full_pod_spec",
    "remote_host",
    "method",
    "sql",
    "bash_command",
)
_DEFAULT_POOL = "default_pool"
_PLAIN = (str, int, float, bool, type(None), timedelta)


def plain(value: Any, depth: int = 0) -> Any:
    """Kubernetes models become dicts, replica sets become facts, the rest stays as is."""
    if type(value).__name__ == "Replicas" and hasattr(value, "endpoints"):
        return replica_set(value)
    if isinstance(value, _PLAIN) or depth > 6:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return plain(to_dict(), depth + 1)
        except Exception:
            return None
    return None


def replica_set(value: Any, where: Location | None = None) -> ReplicaSet:
    endpoints = [
        Endpoint(
            kind=str(getattr(ep, "kind", "")),
            conn_id=getattr(ep, "conn_id", None),
            region=getattr(ep, "region", None),
            location=getattr(ep, "location", None),
        )
        for ep in getattr(value, "endpoints", ())
    ]
    return ReplicaSet(
        endpoints=endpoints,
        write_consistency=getattr(value, "write_consistency", "quorum"),
        min_regions=getattr(value, "min_regions", 1),
        name=str(getattr(value, "name", "")),
        where=where,
    )


def _is_sensor(task: Any) -> bool:
    return any(cls.__name__ == "BaseSensorOperator" for cls in type(task).__mro__)


def _arguments(task: Any) -> Iterator[tuple[str, Any]]:
    """An operator's attributes; a mapped one's also its ``.partial()`` arguments and the
    literal lists it maps over (each element one run's value, as the static engine reads
    ``.expand()`` and ``.expand_kwargs()``), and the connection id of each hook it keeps."""
    for key, value in vars(task).items():
        yield key, value
        held = _hook_connection(value)
        if held is not None:  # ``self.hook = HttpHook(http_conn_id=...)``
            yield f"{key.lstrip('_')}.{held[0]}", held[1]
    partial = getattr(task, "partial_kwargs", None)
    if isinstance(partial, dict):
        yield from partial.items()
    mapped = getattr(getattr(task, "expand_input", None), "value", None)
    if isinstance(mapped, dict):  # .expand(x=[...])
        yield from ((k, v) for k, v in mapped.items() if type(v) is list)
    elif type(mapped) is list and all(isinstance(run, dict) for run in mapped):
        gathered: dict[str, list[Any]] = {}
        for run in mapped:  # .expand_kwargs([{...}, ...])
            for key, value in run.items():
                gathered.setdefault(str(key), []).append(value)
        yield from gathered.items()


def _hook_connection(value: Any) -> tuple[str, Any] | None:
    """An Airflow hook names the attribute holding its connection id in ``conn_name_attr``;
    the id is read from the object's own attributes (no property is run)."""
    attr = getattr(type(value), "conn_name_attr", None)
    if not isinstance(attr, str) or not hasattr(value, "__dict__"):
        return None
    return attr, vars(value).get(attr)


def _kwargs(task: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in _arguments(task):
        if key.startswith("_"):
            continue
        replica_valued = type(value).__name__ == "Replicas" or (
            isinstance(value, (list, tuple)) and any(type(v).__name__ == "Replicas" for v in value)
        )
        wanted = key.endswith(("_conn_id", "_conn_ids")) or key in {"conn_id", *_ATTRIBUTES}
        if wanted or replica_valued:
            values[key] = plain(value)
    for key in _ATTRIBUTES:
        if key not in values and hasattr(task, key):
            try:
                values[key] = plain(getattr(task, key))
            except Exception:
                continue
    if values.get("pool") == _DEFAULT_POOL:
        values.pop("pool")
    return {k: v for k, v in values.items() if v is not None or k == "execution_timeout"}


def _callable_body(task: Any, facts: Task) -> None:
    """What a ``@task`` function, a ``python_callable`` or a custom operator's methods do:
    the task's own doing."""
    function = getattr(task, "python_callable", None)
    given: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
    if isinstance(function, functools.partial):
        given = (function.args, function.keywords)
        function = function.func
    if inspect.isfunction(function):
        facts.is_taskflow = type(task).__name__.endswith("DecoratedOperator")
        body = _read(function, method=False)
        if body is None:
            return
        held = body.conn_ids_given(_call_arguments(function, task, *given))
    else:
        body = _operator_body(task.__class__)
        if body is None:
            return
        # the raw attribute: a property is not run (it may open the very connection)
        held = body.conn_ids_held(lambda name: inspect.getattr_static(task, name, None))
    facts.body_conn_ids = [*body.conn_ids, *held]
    facts.body_reads_external = body.reads_external
    facts.body_hosts = body.hosts
    facts.uses_replicas = facts.uses_replicas or body.uses_replicas
    facts.paths.extend(body.paths)


@functools.lru_cache(maxsize=256)
def _operator_body(cls: Any) -> BodyFacts | None:
    """What a task of an operator class the DAG's authors wrote (not Airflow's, not ours)
    runs: the methods ``taskflow.methods_run`` picks. The object is built, so the
    parameters of its ``__init__`` are gone; what it keeps on ``self`` is read instead."""
    methods = {
        name: function
        for name, function in inspect.getmembers_static(cls, inspect.isfunction)
        if str(getattr(function, "__module__", "")).split(".")[0] not in {"airflow", "airflow_spof"}
    }
    if "execute" not in methods:
        return None
    nodes = {name: _parsed(function) for name, function in methods.items()}
    parts = [
        analyze_body(node, _scope(methods[name]), method=True)
        for name in methods_run(list(methods), nodes.get)
        if (node := nodes[name]) is not None
    ]
    return combined(parts, [])


def _read(function: Any, method: bool) -> BodyFacts | None:
    node = _parsed(function)
    return analyze_body(node, _scope(function), method=method) if node is not None else None


def _parsed(function: Any) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        return _definition(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


def _scope(function: Any) -> dict[str, Any]:
    """The plain constants the function's module defines."""
    return {k: v for k, v in getattr(function, "__globals__", {}).items() if isinstance(v, _PLAIN)}


def _definition(source: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function a callable's source defines; a lambda's source is the line holding it,
    read only when that line holds no other lambda."""
    nodes = list(ast.walk(ast.parse(source)))
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    lambdas = [node for node in nodes if isinstance(node, ast.Lambda)]
    return lambda_function(lambdas[0]) if len(lambdas) == 1 else None


def _call_arguments(
    function: Any, task: Any, given_args: tuple[Any, ...], given_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """What the DAG passed to the function, by parameter (XComArgs stay objects): through
    ``functools.partial`` (``given_*``), then ``op_args``/``op_kwargs``."""
    args = [*given_args, *(getattr(task, "op_args", ()) or ())]
    kwargs = {**given_kwargs, **(getattr(task, "op_kwargs", {}) or {})}
    try:
        return dict(inspect.signature(function).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {}


def _path_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments that may name local files: strings, and the commands a mapped
    ``BashOperator`` runs (a list, as the static engine reads ``.expand()``)."""
    return {k: v for k, v in kwargs.items() if isinstance(v, str) or k == "bash_command"}


def task_facts(task: Any, dag_id: str, path: str) -> Task:
    operator = type(task).__name__
    kwargs = _kwargs(task)
    facts = Task(
        task_id=str(task.task_id),
        dag_id=dag_id,
        operator=operator,
        kwargs=kwargs,
        is_sensor=_is_sensor(task),
        uses_replicas=operator in REPLICATED_OPERATORS,
        paths=operator_paths(operator, _path_arguments(kwargs)),
        upstream=set(getattr(task, "upstream_task_ids", ())),
        where=Location(path, 1, 1, 1, 1, ()),
    )
    _callable_body(task, facts)
    return facts


def dag_facts(dag: Any) -> Dag:
    path = str(getattr(dag, "fileloc", "") or "<dag>")
    facts = Dag(dag_id=str(dag.dag_id), where=Location(path, 1, 1, 1, 1, ()))
    for task in dag.tasks:
        facts.tasks[task.task_id] = task_facts(task, facts.dag_id, path)
    return facts


def replica_sets(dag: Any) -> list[ReplicaSet]:
    """Distinct replica sets referenced by the DAG's tasks."""
    seen: dict[int, ReplicaSet] = {}
    path = str(getattr(dag, "fileloc", "") or "<dag>")
    for task in dag.tasks:
        for value in vars(task).values():
            candidates = value if isinstance(value, (list, tuple)) else [value]
            for candidate in candidates:
                if type(candidate).__name__ == "Replicas" and id(candidate) not in seen:
                    seen[id(candidate)] = replica_set(candidate, Location(path, 1, 1, 1, 1, ()))
    return list(seen.values())
