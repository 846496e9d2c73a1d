"""Turn recognised calls into model objects: DAGs, tasks, replica sets, endpoints."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from airflow_spof.lint.model import UNKNOWN, Dag, Endpoint, PathUse, ReplicaSet, Task
from airflow_spof.lint.rules.classify import REPLICATED_OPERATORS
from airflow_spof.lint.static import edges
from airflow_spof.lint.static.paths import operator_paths
from airflow_spof.lint.static.taskflow import analyze_body, combined, methods_run
from airflow_spof.lint.static.values import (
    BodyFacts,
    BoundFunction,
    DagFactory,
    DagValue,
    FunctionValue,
    GroupFactory,
    GroupValue,
    LocalClass,
    OpenDict,
    SiteFacts,
    TaskFactory,
    TaskRef,
)

if TYPE_CHECKING:
    from airflow_spof.lint.static.interpreter import Interpreter

_NOT_ARGS = frozenset({"dag", "default_args", "task_group"})


def make_dag(
    it: Interpreter,
    node: ast.AST,
    args: list[Any],
    kwargs: dict[str, Any],
    name: str | None = None,
    first: ast.AST | None = None,
) -> DagValue:
    dag_id = kwargs.get("dag_id", args[0] if args else name)
    if not isinstance(dag_id, str):
        dag_id = f"<dag@{getattr(node, 'lineno', 0)}>"
    # ``DAG(**config)``: the hidden arguments may include default_args
    default_args = kwargs.get("default_args", OpenDict() if isinstance(kwargs, OpenDict) else {})
    if isinstance(default_args, dict):  # a copy, as Airflow's: dag.default_args[...] = is per DAG
        default_args = type(default_args)(default_args)
    else:
        default_args = OpenDict() if default_args is not None else {}
    dag = Dag(dag_id=str(dag_id), where=it.locate(node, first))
    it.module.dags.append(dag)
    return DagValue(dag, default_args)


def make_group(
    it: Interpreter, label: Any, kwargs: dict[str, Any], suffix_on_collision: bool = False
) -> GroupValue:
    """A TaskGroup named like Airflow names it: under its parent unless that parent has
    ``prefix_group_id=False``, and ``__1``, ``__2``... for a decorated group called again."""
    given_dag = kwargs.get("dag")
    dag = given_dag if isinstance(given_dag, DagValue) else it.current_dag()
    given_parent = kwargs.get("parent_group")
    parent = given_parent if isinstance(given_parent, GroupValue) else _open_group(it, dag)
    name = label if isinstance(label, str) and label else "{?}"
    group_id = parent.child_id(name) if parent is not None else name
    if suffix_on_collision and group_id in dag.group_ids:
        base, counter = re.sub(r"__\d+$", "", group_id), 1
        while f"{base}__{counter}" in dag.group_ids:
            counter += 1
        group_id = f"{base}__{counter}"
    dag.group_ids.add(group_id)
    inherited = parent.default_args if parent is not None else {}
    own = kwargs.get("default_args")
    if isinstance(own, dict):
        merged = {**inherited, **own}
        default_args = OpenDict(merged) if isinstance(own, OpenDict) else type(inherited)(merged)
    else:
        default_args = inherited if own is None else OpenDict(inherited)
    return GroupValue(
        group_id,
        dag,
        parent=parent,
        prefix=kwargs.get("prefix_group_id", True) is not False,
        default_args=default_args,
    )


def _open_group(it: Interpreter, dag: DagValue) -> GroupValue | None:
    """The innermost group being built, if it belongs to ``dag``."""
    group = it.group_stack[-1] if it.group_stack else None
    return group if group is not None and group.dag is dag else None


def _task_group(it: Interpreter, kwargs: dict[str, Any], dag: DagValue) -> GroupValue | None:
    given = kwargs.get("task_group")
    return given if isinstance(given, GroupValue) else _open_group(it, dag)


def _register(it: Interpreter, dag: DagValue, group: GroupValue | None, task: Task) -> TaskRef:
    """Add the task under a unique key; its id gets Airflow's ``__1`` suffix only when the
    task it collides with can exist at the same time (not in another branch of an if/try)."""
    base = group.child_id(task.task_id) if group is not None else task.task_id
    key, counter, shared = base, 0, True
    branch = it.branch_path
    tasks = dag.dag.tasks
    if not branch and key in tasks:
        # Outside unknown branches every collision counts and ids are never freed, so the
        # search resumes at the last suffix given: a loop calling ``extract()`` forty times
        # makes forty probes, not 820.
        shared, counter = False, it.suffixes.get((id(dag), base), 1)
        key = f"{base}__{counter}"
    while key in tasks:
        shared = shared and _exclusive(it.task_branches.get((id(dag), key), ()), branch)
        counter += 1
        key = f"{base}__{counter}"
    if counter:
        it.suffixes[(id(dag), base)] = counter
    task.task_id = base if shared else key
    task.key = key
    dag.dag.tasks[key] = task
    if branch:
        it.task_branches[(id(dag), key)] = branch
    while group is not None:
        group.task_ids.append(key)
        group = group.parent
    return TaskRef(dag, [key])


def _exclusive(first: tuple[tuple[int, int], ...], second: tuple[tuple[int, int], ...]) -> bool:
    """Branch paths that part ways at some if/try: the two never run in the same parse."""
    taken = dict(first)
    return any(taken.get(point, arm) != arm for point, arm in second)


def _effective(
    dag: DagValue, group: GroupValue | None, kwargs: dict[str, Any], explicit: dict[str, Any]
) -> tuple[dict[str, Any], set[str], bool]:
    """default_args (the DAG's, its task group's, the task's own) merged under ``explicit``
    (the task's own ``kwargs`` minus ``_NOT_ARGS``)."""
    defaults = dag.default_args
    own_defaults = kwargs.get("default_args")
    if (group is not None and group.default_args) or own_defaults is not None:
        layers = [defaults]
        if group is not None and group.default_args:
            layers.append(group.default_args)
        if isinstance(own_defaults, dict):
            layers.append(own_defaults)
        defaults = {k: v for d in layers for k, v in d.items()}
        complete = not any(isinstance(d, OpenDict) for d in layers) and (
            isinstance(own_defaults, dict) or own_defaults is None
        )
    else:  # the common case: the DAG's default_args alone
        complete = not isinstance(defaults, OpenDict)
    return {**defaults, **explicit}, defaults.keys() - explicit.keys(), complete


def _site(
    it: Interpreter, key: tuple[Any, ...], effective: dict[str, Any], inherited: set[str]
) -> SiteFacts:
    """The facts of the last task made at this call site, when this one has the same
    arguments apart from its id (a loop making tasks); otherwise fresh ones for it."""
    site = it.sites.get(key)
    if site is None or not site.matches(effective, inherited):
        site = it.sites[key] = SiteFacts(dict(effective), inherited)
    return site


def _explicit(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in _NOT_ARGS}


def make_task(
    it: Interpreter,
    node: ast.Call,
    operator: str,
    is_sensor: bool,
    kwargs: dict[str, Any],
    complete: bool,
    local: LocalClass | None = None,
) -> TaskRef:
    """A classic operator's task; ``local``: the operator's class, when the scanned tree
    defines it (what its methods do is then the task's own doing)."""
    given_dag = kwargs.get("dag")
    dag = given_dag if isinstance(given_dag, DagValue) else it.current_dag()
    group = _task_group(it, kwargs, dag)
    explicit = _explicit(kwargs)
    effective, inherited, defaults_complete = _effective(dag, group, kwargs, explicit)
    raw_id = kwargs.get("task_id")
    site = _site(it, (id(node), operator), effective, inherited)
    if site.paths is None:
        site.paths = operator_paths(operator, explicit)
        site.body, site.given = _callable_body(it, explicit.get("python_callable"), explicit)
        if site.body is None and local is not None:
            site.body, site.given = _operator_body(it, local, explicit, node)
    body = site.body
    task = Task(
        task_id=raw_id if isinstance(raw_id, str) else f"{operator}@{node.lineno}",
        dag_id=dag.dag.dag_id,
        operator=operator,
        kwargs=effective,
        from_default_args=inherited,
        complete=complete and defaults_complete,
        is_sensor=is_sensor,
        uses_replicas=operator in REPLICATED_OPERATORS or (body is not None and body.uses_replicas),
        paths=[*site.paths, *body.paths] if body is not None else list(site.paths),
        where=it.locate(node),
        memo=site.memo,
    )
    if body is not None:
        task.body_conn_ids = [*body.conn_ids, *site.given]
        task.body_reads_external = body.reads_external
        task.body_hosts = list(body.hosts)
    ref = _register(it, dag, group, task)
    for upstream in edges.task_refs_in(effective):
        edges.link(upstream, ref)
    return ref


def _callable_body(
    it: Interpreter, function: Any, explicit: dict[str, Any]
) -> tuple[BodyFacts | None, list[str]]:
    """What a ``python_callable`` defined in the scanned tree does (as a ``@task`` body),
    and the connection ids ``functools.partial`` and ``op_args``/``op_kwargs`` pass to its
    parameters."""
    given_args: list[Any] = []
    given_kwargs: dict[str, Any] = {}
    if isinstance(function, BoundFunction):
        function, given_args, given_kwargs = function.function, function.args, function.kwargs
    if not isinstance(function, FunctionValue):
        return None, []
    body = it.bodies.get(id(function.node))
    if body is None:
        body = it.bodies[id(function.node)] = analyze_body(function.node, function.scope)
    args, kwargs = explicit.get("op_args"), explicit.get("op_kwargs")
    bound = it.bind_params(
        function.node,
        function.scope,
        [*given_args, *(args if isinstance(args, (list, tuple)) else [])],
        {**given_kwargs, **(kwargs if isinstance(kwargs, dict) else {})},
    )
    return body, body.conn_ids_given(bound)


def _operator_body(
    it: Interpreter, cls: LocalClass, explicit: dict[str, Any], node: ast.Call
) -> tuple[BodyFacts | None, list[str]]:
    """What a custom operator's task does: its ``execute``, ``__init__`` and the methods
    they call on ``self``. Connection ids come from this task's arguments (``__init__``'s
    parameters, defaults included) and what its object holds (``self.conn_id``, set by
    ``__init__`` or on the class). Operators take keyword arguments only."""
    if "execute" not in cls.methods:
        return None, []
    init = cls.methods.get("__init__")
    body = it.operator_bodies.get(id(cls))
    if body is None:
        names = methods_run(list(cls.methods), lambda name: cls.methods[name].node)
        params = _method_body(it, init).conn_params if init is not None else []
        parts = [_method_body(it, cls.methods[name]) for name in names]
        body = it.operator_bodies[id(cls)] = combined(parts, params)
    if not (body.conn_attrs or body.conn_params):
        return body, []
    instance = it.instantiate(cls, [], explicit, node)
    given = (
        body.conn_ids_given(it.bind_params(init.node, init.scope, [instance], explicit))
        if init is not None
        else []
    )
    return body, [*given, *body.conn_ids_held(instance.attribute)]


def _method_body(it: Interpreter, method: FunctionValue) -> BodyFacts:
    body = it.bodies.get(id(method.node))
    if body is None:
        body = it.bodies[id(method.node)] = analyze_body(method.node, method.scope, method=True)
    return body


def call_taskflow(
    it: Interpreter, factory: TaskFactory, node: ast.AST, args: list[Any], kwargs: dict[str, Any]
) -> TaskRef:
    """Calling a ``@task`` function creates a task; XComArg arguments become edges. ``node``
    is the call (or the ``def`` of an ``@asset``, which Airflow calls itself)."""
    body = it.bodies.get(id(factory.node))
    if body is None:
        bash = factory.kind == "bash"
        body = it.bodies[id(factory.node)] = analyze_body(factory.node, factory.scope, bash)
    dag = it.current_dag()
    group = _open_group(it, dag)
    effective, inherited, complete = _effective(
        dag, group, factory.kwargs, _explicit(factory.kwargs)
    )
    complete = complete and not isinstance(factory.kwargs, OpenDict)  # @task(**unknown)
    raw_id = factory.kwargs.get("task_id", factory.node.name)
    first = factory.node.decorator_list[0] if factory.node.decorator_list else None
    operator = "@task" if factory.kind == "python" else f"@task.{factory.kind}"
    bound = it.bind_params(factory.node, factory.scope, args, kwargs)
    given = body.conn_ids_given(bound)
    task = Task(
        task_id=raw_id if isinstance(raw_id, str) else factory.node.name,
        dag_id=dag.dag.dag_id,
        operator=operator,
        kwargs=effective,
        from_default_args=inherited,
        complete=complete,
        is_sensor=factory.kind == "sensor",
        is_taskflow=True,
        body_conn_ids=[*body.conn_ids, *given],
        body_reads_external=body.reads_external,
        body_hosts=list(body.hosts),
        uses_replicas=body.uses_replicas,
        paths=list(body.paths),
        where=it.locate(node) if factory.path != it.path else it.locate(factory.node, first),
        memo=_site(it, (id(node), id(factory.node), *given), effective, inherited).memo,
    )
    ref = _register(it, dag, group, task)
    for param, value in bound.items():
        for upstream in edges.task_refs_in(value):
            edges.link(upstream, ref)
            if param in body.param_reads:
                for up_id in upstream.task_ids:
                    for path in it.returned_paths.get((dag.dag.dag_id, up_id), []):
                        task.paths.append(PathUse(path, "read"))
    for value in [*args, *kwargs.values()]:
        for upstream in edges.task_refs_in(value):
            edges.link(upstream, ref)
    if body.returns_paths:
        it.returned_paths[(dag.dag.dag_id, task.key)] = list(body.returns_paths)
    return ref


def materialize_asset(
    it: Interpreter,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    kwargs: dict[str, Any],
    multi: bool,
    below: Any,
) -> None:
    """``@asset`` / ``@asset.multi``: Airflow makes a DAG (named after the asset, or
    ``dag_id``) with one task running the function, or the ``@task`` stacked below."""
    name = kwargs.get("dag_id") or (None if multi else kwargs.get("name")) or node.name
    dag = make_dag(it, node, [], {}, name=name, first=node.decorator_list[0])
    factory = (
        below
        if isinstance(below, TaskFactory)
        else TaskFactory(node, "python", {}, it.frames[0], it.path)
    )
    it.dag_stack.append(dag)
    try:
        call_taskflow(it, factory, node, [], {})
    finally:
        it.dag_stack.pop()


def call_dag_factory(
    it: Interpreter,
    factory: DagFactory,
    args: list[Any],
    kwargs: dict[str, Any],
    call: ast.AST | None = None,
) -> DagValue:
    factory.called = True
    saved = it.enter(factory.path, call)
    try:
        first = factory.node.decorator_list[0] if factory.node.decorator_list else None
        dag = make_dag(it, factory.node, [], factory.kwargs, name=factory.node.name, first=first)
        _run_body(it, factory, args, kwargs, it.dag_stack, dag)
    finally:
        it.foreign_call = saved
    return dag


def call_group_factory(
    it: Interpreter,
    factory: GroupFactory,
    args: list[Any],
    kwargs: dict[str, Any],
    call: ast.AST | None = None,
) -> GroupValue:
    saved = it.enter(factory.path, call)
    try:
        label = factory.kwargs.get("group_id", factory.node.name)
        group = make_group(it, label, factory.kwargs, suffix_on_collision=True)
        _run_body(it, factory, args, kwargs, it.group_stack, group)
    finally:
        it.foreign_call = saved
    return group


def _run_body(
    it: Interpreter,
    factory: DagFactory | GroupFactory,
    args: list[Any],
    kwargs: dict[str, Any],
    stack: list[Any],
    value: Any,
) -> None:
    """Interpret a ``@dag``/``@task_group`` function body with ``value`` as the open context."""
    stack.append(value)
    saved = it.frames
    it.frames = [factory.scope, it.bind_params(factory.node, factory.scope, args, kwargs)]
    it.return_stack.append([])
    try:
        it.exec_block(factory.node.body)
    finally:
        it.frames = saved
        it.return_stack.pop()
        stack.pop()


def make_endpoint(it: Interpreter, kind: str, args: list[Any], kwargs: dict[str, Any]) -> Endpoint:
    first = args[0] if args else kwargs.get("conn_id", kwargs.get("path", UNKNOWN))
    region = kwargs.get("region")
    if kind == "fs":
        return Endpoint(kind, None, region, first)
    if kind == "s3":
        bucket, prefix = kwargs.get("bucket", UNKNOWN), kwargs.get("prefix", "")
        where = (
            f"{bucket}/{prefix}".rstrip("/")
            if isinstance(bucket, str) and isinstance(prefix, str)
            else UNKNOWN
        )
        return Endpoint(kind, first, region, where)
    table, schema = kwargs.get("table", UNKNOWN), kwargs.get("schema")
    if isinstance(table, str):
        where = f"{schema}.{table}" if isinstance(schema, str) else table
        return Endpoint(kind, first, region, where)
    return Endpoint(kind, first, region, UNKNOWN)


def make_replicas(
    it: Interpreter, node: ast.Call, args: list[Any], kwargs: dict[str, Any]
) -> ReplicaSet:
    items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    endpoints = list(items) if items and all(isinstance(e, Endpoint) for e in items) else None
    if any(isinstance(a, ast.Starred) for a in node.args):
        endpoints = None
    replicas = ReplicaSet(
        endpoints=endpoints,
        write_consistency=kwargs.get("write_consistency", "quorum"),
        min_regions=kwargs.get("min_regions", 1),
        name=str(kwargs.get("name", "")),
        where=it.locate(node),
    )
    it.module.replica_sets.append(replicas)
    return replicas
