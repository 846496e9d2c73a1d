"""What a ``@task`` function body does: connections, reads, hosts and local files.

The body is never run; calls in it are matched by name, and their arguments
are evaluated with the module's constants and the body's simple assignments.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from airflow_spof.lint.model import PathUse
from airflow_spof.lint.rules.classify import hosts_in_text
from airflow_spof.lint.static.evaluator import Evaluator, dotted
from airflow_spof.lint.static.paths import bash_paths, without_prints
from airflow_spof.lint.static.values import BodyFacts

_WRITE_METHODS = frozenset(
    {
        "to_csv",
        "to_parquet",
        "to_json",
        "to_pickle",
        "to_feather",
        "to_excel",
        "savefig",
        "to_file",
        "urlretrieve",
        "download_file",
        "dump_to",
    }
)
_READ_METHODS = frozenset(
    {
        "read_csv",
        "read_parquet",
        "read_json",
        "read_pickle",
        "read_feather",
        "read_excel",
        "read_table",
        "load_file",
        "upload_file",
        "load_local_file",
    }
)
_EXTERNAL_READS = frozenset(
    {
        "get_records",
        "get_pandas_df",
        "get_df",
        "get_first",
        "read_key",
        "get_key",
        "download_file",
        "download",
        "download_fileobj",
        "run_query",
        "fetch",
        "fetchall",
        "get_conn",
        "get_connection",
        "read",
        "read_sql",
        "urlopen",
        "get_file",
        "retrieve_file",
        "list_keys",
        "select",
        "query",
    }
)
_HTTP_GETS = frozenset({"requests.get", "httpx.get", "urllib.request.urlopen", "urlopen"})
_CLIENT_CALLS = frozenset(
    {"get_conn", "get_connection", "connect", "cursor", "execute", "client", "resource"}
    | {"urlopen", "get_hook"}
)
"""Calls whose result talks to another system (``hook.get_conn().cursor()`` ...)."""
_REPLICA_AWARE = frozenset({"ReplicatedHook", "FailoverHook"})


def lambda_function(node: ast.Lambda) -> ast.FunctionDef:
    """``lambda ...: expr`` as the function ``def <lambda>(...): return expr``."""
    returned = ast.copy_location(ast.Return(value=node.body), node.body)
    named = ast.FunctionDef(name="<lambda>", args=node.args, body=[returned], decorator_list=[])
    return ast.copy_location(named, node)


def analyze_body(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    module_scope: dict[str, Any],
    bash: bool = False,
    method: bool = False,
) -> BodyFacts:
    """Collect facts from one function body; parameters are treated as unknown. A ``bash``
    body (``@task.bash``) returns the command it runs; in a ``method``, what the first
    parameter (``self``) holds is recorded by attribute name."""
    params = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
    positional = [*node.args.posonlyargs, *node.args.args]
    owner = positional[0].arg if method and positional else None
    evaluator = Evaluator(module_scope)
    local: dict[str, Any] = {}
    evaluator.frames.append(local)
    facts = BodyFacts()
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            evaluator.bind(stmt.targets[0], evaluator.eval(stmt.value))
    for inner in _calls_and_returns(node.body):
        if isinstance(inner, ast.Call):
            _call(inner, evaluator, facts, params, owner)
        elif isinstance(inner, ast.Return) and inner.value is not None:
            value = evaluator.eval(inner.value)
            if bash and isinstance(value, str):
                facts.paths.extend(bash_paths(value))
                facts.hosts.extend(hosts_in_text(without_prints(value)))
            elif isinstance(value, str) and value.startswith(("/", "~/")):
                facts.returns_paths.append(value)
                if not any(p.path == value for p in facts.paths):
                    facts.paths.append(PathUse(value, "write"))
    facts.reads_external = facts.read_calls and facts.names_a_source()
    return facts


Method = ast.FunctionDef | ast.AsyncFunctionDef


def methods_run(names: Collection[str], node_of: Callable[[str], Method | None]) -> list[str]:
    """What a custom operator's task runs: ``__init__``, ``execute`` and the methods they
    call on the same object (``self.export()``), transitively, in ``names`` order."""
    todo = [name for name in ("__init__", "execute") if name in names]
    seen = set(todo)
    while todo:
        node = node_of(todo.pop())
        positional = [*node.args.posonlyargs, *node.args.args] if node is not None else []
        if node is None or not positional:
            continue
        owner = positional[0].arg
        for call in _calls_and_returns(node.body):
            func = call.func if isinstance(call, ast.Call) else None
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == owner
                and func.attr in names
                and func.attr not in seen
            ):
                seen.add(func.attr)
                todo.append(func.attr)
    return [name for name in names if name in seen]


def combined(parts: list[BodyFacts], conn_params: list[str]) -> BodyFacts:
    """One task's facts from the bodies of the methods it runs. Of their parameters only
    ``conn_params`` (``__init__``'s, which the task's arguments fill) are kept."""
    facts = BodyFacts(
        conn_ids=[c for part in parts for c in part.conn_ids],
        read_calls=any(part.read_calls for part in parts),
        hosts=[h for part in parts for h in part.hosts],
        uses_replicas=any(part.uses_replicas for part in parts),
        paths=[p for part in parts for p in part.paths],
        conn_params=conn_params,
        conn_attrs=[a for part in parts for a in part.conn_attrs],
    )
    facts.reads_external = facts.read_calls and facts.names_a_source()
    return facts


def _calls_and_returns(body: list[ast.stmt]) -> list[ast.Call | ast.Return]:
    """The Call and Return nodes of a function body (not its decorators or default values,
    which run when it is defined), breadth first like ``ast.walk``, without its generator
    per node."""
    found: list[ast.Call | ast.Return] = []
    todo: deque[ast.AST] = deque(body)
    while todo:
        node = todo.popleft()
        if isinstance(node, (ast.Call, ast.Return)):
            found.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST))
    return found


def _call(
    node: ast.Call, ev: Evaluator, facts: BodyFacts, params: set[str], owner: str | None
) -> None:
    name = dotted(node.func)
    # ``PostgresHook(...).get_records(...)``: a method of a call's result has no dotted name
    short = node.func.attr if isinstance(node.func, ast.Attribute) else name.rsplit(".", 1)[-1]
    if short in _REPLICA_AWARE:
        facts.uses_replicas = True
    for keyword in node.keywords:
        if keyword.arg and (keyword.arg == "conn_id" or keyword.arg.endswith("_conn_id")):
            _conn_id(keyword.value, ev, facts, params, owner)
    args = [ev.eval(a) for a in node.args]
    if short in {"get_connection", "get_connection_from_secrets"} or name == "Connection.get":
        if node.args:
            _conn_id(node.args[0], ev, facts, params, owner)
        facts.read_calls = True
    if (short in _EXTERNAL_READS and _on_a_client(node.func)) or name in _HTTP_GETS:
        facts.read_calls = True
    for value in args:
        if isinstance(value, str):
            facts.hosts.extend(hosts_in_text(value))
    _paths(node, short, args, ev, facts, params)


def _on_a_client(func: ast.expr) -> bool:
    """Is a reading method called on something that talks to another system? For the
    result of a call (``PostgresHook(...).get_records()``, ``open(p).read()``) that call
    says so; a name (``hook.get_records()``, ``f.read()``) may be either and counts."""
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Call):
        return True
    maker = dotted(func.value.func).rsplit(".", 1)[-1]
    return maker.endswith(("Hook", "Client", "Connection")) or maker in _CLIENT_CALLS


def _conn_id(
    node: ast.expr, ev: Evaluator, facts: BodyFacts, params: set[str], owner: str | None
) -> None:
    """A connection id in the body: a constant, a parameter the caller fills in, or an
    attribute of the method's object (``self.conn_id``)."""
    if isinstance(node, ast.Name) and node.id in params:
        facts.conn_params.append(node.id)
        return
    if (
        owner is not None
        and isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == owner
    ):
        facts.conn_attrs.append(node.attr)
        return
    value = ev.eval(node)
    if isinstance(value, str):
        facts.conn_ids.append(value)


def _paths(
    node: ast.Call, short: str, args: list[Any], ev: Evaluator, facts: BodyFacts, params: set[str]
) -> None:
    path_kw = next(
        (
            k.value
            for k in node.keywords
            if k.arg
            in {"path", "path_or_buf", "local_path", "filename", "file_path", "local_filepath"}
        ),
        None,
    )
    target = node.args[0] if node.args else path_kw
    if short == "open" and target is not None:
        mode = (
            ev.eval(node.args[1])
            if len(node.args) > 1
            else next((ev.eval(k.value) for k in node.keywords if k.arg == "mode"), "r")
        )
        writing = isinstance(mode, str) and any(c in mode for c in "wax")
        _record(target, "write" if writing else "read", ev, facts, params)
    elif short in _WRITE_METHODS:
        chosen = path_kw if path_kw is not None else target
        if chosen is not None:
            _record(chosen, "write", ev, facts, params)
    elif short in _READ_METHODS and target is not None:
        _record(target, "read", ev, facts, params)
    elif short in {"copy", "copyfile", "copy2", "move"} and len(node.args) == 2:
        _record(node.args[0], "read", ev, facts, params)
        _record(node.args[1], "write", ev, facts, params)
    elif isinstance(node.func, ast.Attribute) and short in {
        "write_text",
        "write_bytes",
        "read_text",
    }:
        _record(
            node.func.value, "write" if short.startswith("write") else "read", ev, facts, params
        )


def _record(node: ast.expr, mode: str, ev: Evaluator, facts: BodyFacts, params: set[str]) -> None:
    if isinstance(node, ast.Call) and dotted(node.func).rsplit(".", 1)[-1] in {"Path", "open"}:
        node = node.args[0] if node.args else node
    if isinstance(node, ast.Name) and node.id in params:
        if mode == "read":
            facts.param_reads.add(node.id)
        return
    value = ev.eval(node)
    if isinstance(value, str) and value.startswith(("/", "~/", "./")):
        facts.paths.append(PathUse(value, mode))
