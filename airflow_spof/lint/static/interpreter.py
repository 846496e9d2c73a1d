"""Walks a module's statements like a tiny interpreter to find DAGs, tasks and edges.

Loops over known lists, task-factory functions, ``@dag``/``@task_group``
bodies and ``with`` blocks are followed; nothing is imported or executed.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airflow_spof.lint.model import UNKNOWN, Dag, Location, Module
from airflow_spof.lint.static import branches, builtins, edges, imports
from airflow_spof.lint.static import builders as build
from airflow_spof.lint.static.evaluator import Evaluator, dispatch_table, dotted
from airflow_spof.lint.static.imports import ModuleLoader
from airflow_spof.lint.static.locate import location
from airflow_spof.lint.static.taskflow import lambda_function
from airflow_spof.lint.static.values import (
    OPERATOR_SUFFIXES,
    BodyFacts,
    BoundFunction,
    DagFactory,
    DagValue,
    FunctionValue,
    GroupFactory,
    GroupValue,
    Imported,
    Instance,
    LabelValue,
    LocalClass,
    OpenDict,
    OperatorClass,
    PartialValue,
    SiteFacts,
    TaskFactory,
    TaskRef,
    overridden,
)

_MAX_DEPTH = 6
MAX_INLINED_CALLS = 2_000
"""Calls of plain functions followed per file. Helpers that call helpers in loops would
otherwise multiply (60 calls on each of five levels: 777 million); DAG factories take a few."""


class Interpreter(Evaluator):
    """Executes the shape of a DAG file: statements in order, values best effort."""

    _execs: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._execs = dispatch_table(cls, "_exec_")

    def __init__(
        self, path: str, loader: ModuleLoader, max_inlined: int = MAX_INLINED_CALLS
    ) -> None:
        super().__init__({})
        self.path = path
        self.loader = loader
        self.module = Module(path=path)
        self.dag_stack: list[DagValue] = []
        self.group_stack: list[GroupValue] = []
        self.return_stack: list[list[Any]] = []
        self.dag_factories: list[DagFactory] = []
        self.orphan: DagValue | None = None
        self.returned_paths: dict[tuple[str, str], list[str]] = {}
        self.bodies: dict[int, BodyFacts] = {}
        self.operator_bodies: dict[int, BodyFacts] = {}
        """What the tasks of each custom operator class run (by the class's id)."""
        self.branch_path: tuple[tuple[int, int], ...] = ()
        """(if/try statement run, branch taken) for each unknown branch being followed."""
        self.branch_count = 0
        self.task_branches: dict[tuple[int, str], tuple[tuple[int, int], ...]] = {}
        self.foreign_call: ast.AST | None = None
        """The call in this file that entered a function of a sibling module, if any."""
        self.locations: dict[tuple[int, int], Location] = {}
        self.sites: dict[tuple[Any, ...], SiteFacts] = {}
        self.suffixes: dict[tuple[int, str], int] = {}
        """The last ``__n`` suffix given to each task id of each DAG."""
        self.inlined = 0
        self.lambdas: dict[int, ast.FunctionDef] = {}
        self.max_inlined = max_inlined

    def run(self, tree: ast.Module) -> Module:
        self.exec_block(tree.body)
        for factory in self.dag_factories:
            if not factory.called:
                build.call_dag_factory(self, factory, [], {})
        return self.module

    # -- statements -------------------------------------------------------------------------
    def exec_block(self, body: list[ast.stmt]) -> None:
        execs = self._execs
        for stmt in body:
            handler = execs.get(type(stmt))
            if handler is not None:
                handler(self, stmt)

    def _exec_Expr(self, stmt: ast.Expr) -> None:
        self.eval(stmt.value)

    def _exec_Assign(self, stmt: ast.Assign) -> None:
        value = self.eval(stmt.value)
        for target in stmt.targets:
            self.bind(target, value)

    def bind(self, target: ast.AST, value: Any) -> None:
        """``self.x = ...`` on an object of a plain class; ``dag.default_args = {...}``
        reaches the tasks created after it, as in Airflow."""
        if isinstance(target, ast.Attribute):
            owner = self.eval(target.value)
            if isinstance(owner, Instance):
                owner.attributes[target.attr] = value
            elif isinstance(owner, DagValue) and target.attr == "default_args":
                owner.default_args = value if isinstance(value, dict) else OpenDict()
            return
        super().bind(target, value)

    def _exec_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            self.bind(stmt.target, self.eval(stmt.value))

    def _exec_AugAssign(self, stmt: ast.AugAssign) -> None:
        current = self.eval(stmt.target)
        value = self.eval(stmt.value)
        if isinstance(stmt.op, ast.BitOr) and isinstance(current, dict) and isinstance(value, dict):
            current.update(value)
        elif isinstance(stmt.op, ast.RShift):
            edges.shift(current, value, forward=True)
        elif isinstance(stmt.op, ast.LShift):
            edges.shift(current, value, forward=False)
        else:
            self.bind(stmt.target, UNKNOWN)

    def _exec_If(self, stmt: ast.If) -> None:
        if branches.mentions_main(stmt.test):
            return
        known = builtins.truth(self.eval(stmt.test))
        if known is None:
            branches.run_alternatives(self, [stmt.body, stmt.orelse])
        else:
            self.exec_block(stmt.body if known else stmt.orelse)

    def _exec_Try(self, stmt: ast.Try) -> None:
        handlers = [handler.body for handler in stmt.handlers]
        branches.run_alternatives(self, [stmt.body + stmt.orelse, *handlers])
        self.exec_block(stmt.finalbody)

    def _exec_Match(self, stmt: ast.Match) -> None:
        self.eval(stmt.subject)
        branches.run_alternatives(self, [case.body for case in stmt.cases])

    def _exec_While(self, stmt: ast.While) -> None:
        self.exec_block(stmt.body)

    def _exec_For(self, stmt: ast.For) -> None:
        items = self.iterate(self.eval(stmt.iter))
        for item in items if items is not None else [UNKNOWN]:
            self.bind(stmt.target, item)
            self.exec_block(stmt.body)
        self.exec_block(stmt.orelse)

    def _exec_Return(self, stmt: ast.Return) -> None:
        if self.return_stack:
            self.return_stack[-1].append(self.eval(stmt.value))

    def _exec_With(self, stmt: ast.With) -> None:
        pushed: list[Any] = []
        for item in stmt.items:
            value = self.eval(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value)
            if isinstance(value, DagValue):
                self.dag_stack.append(value)
                pushed.append(value)
            elif isinstance(value, GroupValue):
                self.group_stack.append(value)
                pushed.append(value)
        self.exec_block(stmt.body)
        for value in reversed(pushed):
            (self.dag_stack if isinstance(value, DagValue) else self.group_stack).pop()

    def _exec_Import(self, stmt: ast.Import) -> None:
        self.frames[-1].update(imports.bind_import(self.loader, stmt, self.path))

    def _exec_ImportFrom(self, stmt: ast.ImportFrom) -> None:
        self.frames[-1].update(imports.bind_import_from(self.loader, stmt, self.path))

    def _exec_ClassDef(self, stmt: ast.ClassDef) -> None:
        """An operator class descends from one: a class of the tree that is one, or a name
        from elsewhere (``BaseOperator``, ``models.BaseOperator``) that looks like one."""
        operator, sensor = False, "Sensor" in stmt.name
        inherited: list[LocalClass] = []  # local operator bases, whose execute() it may keep
        for base in map(dotted, stmt.bases):
            value = self.lookup(base)
            if isinstance(value, OperatorClass):
                operator, sensor = True, sensor or value.is_sensor
                if value.local is not None:
                    inherited.append(value.local)
            elif isinstance(value, LocalClass):
                continue
            else:
                name = value.name if isinstance(value, Imported) else base
                if name.endswith(OPERATOR_SUFFIXES):
                    operator, sensor = True, sensor or "Sensor" in name
        name = stmt.name
        self.frames[-1][name] = (
            OperatorClass(name, sensor, self.local_class(stmt, inherited))
            if operator
            else self.local_class(stmt)
        )

    def local_class(self, stmt: ast.ClassDef, bases: Sequence[LocalClass] = ()) -> LocalClass:
        """A class of the tree: its methods (followed when called) and class attributes,
        over those of its ``bases`` (the first base's win, as in Python's lookup)."""
        cls = LocalClass(stmt.name)
        for base in reversed(bases):
            cls.methods.update(base.methods)
            cls.static |= base.static
            cls.classwide |= base.classwide
            cls.attributes.update(base.attributes)
        for item in stmt.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                method = self.decorated(item)
                if isinstance(method, FunctionValue):
                    cls.methods[item.name] = method
                    kinds = {dotted(d) for d in item.decorator_list}
                    if "staticmethod" in kinds:
                        cls.static.add(item.name)
                    elif "classmethod" in kinds:
                        cls.classwide.add(item.name)
            elif isinstance(item, (ast.Assign, ast.AnnAssign)) and item.value is not None:
                value = self.eval(item.value)
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        cls.attributes[target.id] = value
        return cls

    def _exec_FunctionDef(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.frames[-1][stmt.name] = self.decorated(stmt)

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def decorated(
        self,
        stmt: ast.FunctionDef | ast.AsyncFunctionDef,
        decorators: list[ast.expr] | None = None,
    ) -> Any:
        """The value a ``def`` binds, given its decorators (by default all of them)."""
        scope = self.frames[0]
        setup_or_teardown = False
        decorators = stmt.decorator_list if decorators is None else decorators
        for index, decorator in enumerate(decorators):
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            kwargs = self.known_keywords(decorator) if isinstance(decorator, ast.Call) else {}
            parts = dotted(target).split(".")
            head = self.lookup(parts[0])
            first = head.name if isinstance(head, Imported) else parts[0]
            from_airflow = isinstance(head, Imported) and head.module.startswith("airflow")
            if first == "asset" and from_airflow:
                below = self.decorated(stmt, decorators[index + 1 :])
                build.materialize_asset(self, stmt, kwargs, parts[-1] == "multi", below)
                return UNKNOWN
            if first == "dag" or parts[-1] == "dag":
                factory = DagFactory(stmt, kwargs, scope, self.path)
                self.dag_factories.append(factory)
                return factory
            if first == "task_group" or parts[-1] == "task_group":
                return GroupFactory(stmt, kwargs, scope, self.path)
            if first == "task":
                kind = ".".join(parts[1:]) or "python"
                return TaskFactory(stmt, kind, kwargs, scope, self.path)
            # ``@setup``/``@teardown`` make a task of a plain function or wrap a ``@task.*`` one
            setup_or_teardown = setup_or_teardown or first in {"setup", "teardown"}
        if setup_or_teardown:
            return TaskFactory(stmt, "python", {}, scope, self.path)
        return self.function(stmt)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionValue:
        """A plain function defined here, seeing the module and the enclosing functions."""
        scope = self.frames[0]
        closure = {k: v for frame in self.frames[1:] for k, v in frame.items()}
        return FunctionValue(node, {**scope, **closure} if closure else scope, self.path)

    def _eval_Lambda(self, node: ast.Lambda) -> FunctionValue:
        """``lambda ...: expr`` as the function ``def <lambda>(...): return expr`` (one per
        lambda, so what its body does is worked out once)."""
        function = self.lambdas.get(id(node))
        if function is None:
            function = self.lambdas[id(node)] = lambda_function(node)
        return self.function(function)

    # -- calls ------------------------------------------------------------------------------
    def _eval_BinOp(self, node: ast.BinOp) -> Any:
        if isinstance(node.op, (ast.RShift, ast.LShift)):
            left, right = self.eval(node.left), self.eval(node.right)
            if edges.is_task_like(left) or edges.is_task_like(right):
                return edges.shift(left, right, forward=isinstance(node.op, ast.RShift))
            return UNKNOWN
        return super()._eval_BinOp(node)

    def call_hook(
        self,
        node: ast.Call,
        name: str,
        args: list[Any],
        kwargs: dict[str, Any],
        complete: bool,
        owner: Any,
    ) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute):
            known = kwargs if complete else OpenDict(kwargs)  # .partial(**unknown)
            result = self.attribute_call(node, owner, func.attr, args, known)
            if result is not NotImplemented:
                return result
            short = func.attr
        else:
            callee = self.eval(func)
            if isinstance(callee, TaskFactory):
                return build.call_taskflow(self, callee, node, args, kwargs)
            if isinstance(callee, DagFactory):
                return build.call_dag_factory(self, callee, args, kwargs, node)
            if isinstance(callee, GroupFactory):
                return build.call_group_factory(self, callee, args, kwargs, node)
            if isinstance(callee, FunctionValue):
                return self.inline(callee, args, kwargs, node)
            if isinstance(callee, BoundFunction):
                given = [*callee.args, *args]
                return self.inline(callee.function, given, {**callee.kwargs, **kwargs}, node)
            if isinstance(callee, OperatorClass):
                return build.make_task(
                    self, node, callee.name, callee.is_sensor, kwargs, complete, callee.local
                )
            if isinstance(callee, LocalClass) and "task_id" not in kwargs:
                return self.instantiate(callee, args, kwargs, node)
            # a plain class called with a task_id may wrap an operator: named_call decides
            short = callee.name if isinstance(callee, Imported) else name.rsplit(".", 1)[-1]
            if isinstance(callee, Imported) and callee.name in {"s3", "sql", "fs"}:
                return build.make_endpoint(self, callee.name, args, kwargs)
        return self.named_call(node, short, args, kwargs, complete)

    def named_call(
        self, node: ast.Call, short: str, args: list[Any], kwargs: dict[str, Any], complete: bool
    ) -> Any:
        if short == "DAG":
            return build.make_dag(self, node, args, kwargs if complete else OpenDict(kwargs))
        if short == "TaskGroup":
            return build.make_group(self, kwargs.get("group_id", args[0] if args else None), kwargs)
        if short in {"chain", "chain_linear"}:
            edges.chain(args)
            return None
        if short == "cross_downstream" and len(args) == 2:
            edges.cross(args[0], args[1])
            return None
        if short == "Label":
            return LabelValue(None)
        if short == "partial" and args and isinstance(args[0], FunctionValue):  # functools
            return BoundFunction(args[0], args[1:], kwargs)
        if short == "XComArg":  # XComArg(task): that task's output
            return args[0] if args and isinstance(args[0], TaskRef) else UNKNOWN
        if short == "Replicas":
            return build.make_replicas(self, node, args, kwargs)
        if short.endswith(OPERATOR_SUFFIXES) or ("task_id" in kwargs and short != "TaskGroup"):
            return build.make_task(self, node, short, "Sensor" in short, kwargs, complete)
        return UNKNOWN

    def instantiate(
        self, cls: LocalClass, args: list[Any], kwargs: dict[str, Any], node: ast.Call
    ) -> Instance:
        """``Builder(...)``: a new object, with ``__init__`` run on it."""
        instance = Instance(cls)
        init = cls.methods.get("__init__")
        if init is not None:
            self.inline(init, [instance, *args], kwargs, node)
        return instance

    def attribute_call(
        self, node: ast.Call, owner: Any, attr: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        cls = owner.cls if isinstance(owner, Instance) else owner
        if isinstance(cls, LocalClass) and attr in cls.methods:
            if attr in cls.static:
                first = []
            elif attr in cls.classwide:
                first = [cls]
            else:  # Builder.method(obj, ...) passes the object itself
                first = [owner] if owner is not cls else []
            return self.inline(cls.methods[attr], [*first, *args], kwargs, node)
        if isinstance(owner, (TaskRef, GroupValue)) and attr in {"set_downstream", "set_upstream"}:
            for arg in args:
                edges.shift(owner, arg, forward=attr == "set_downstream")
            return None
        if isinstance(owner, TaskRef) and attr in {"as_setup", "as_teardown"}:
            edges.link(kwargs.get("setups"), owner)
            return owner
        if isinstance(owner, GroupFactory):
            return self.group_factory_call(owner, node, attr, args, kwargs)
        if isinstance(owner, TaskFactory):
            if attr == "override":
                return overridden(owner, kwargs)
            if attr == "partial":
                return PartialValue(owner, kwargs, node)
            if attr in {"expand", "expand_kwargs"}:
                return self.expand_taskflow(owner, node, {}, attr, args, kwargs)
        if isinstance(owner, PartialValue) and attr in {"expand", "expand_kwargs"}:
            if isinstance(owner.target, GroupFactory):
                return self.group_factory_call(
                    owner.target, node, attr, args, owner.kwargs | kwargs
                )
            if isinstance(owner.target, TaskFactory):
                return self.expand_taskflow(owner.target, node, owner.kwargs, attr, args, kwargs)
            complete = not isinstance(owner.kwargs, OpenDict)
            sensor = "Sensor" in owner.target
            # Literal lists mapped over are checked like the rest (each element is one run's
            # value); an XComArg or an unknown list adds nothing.
            mapped = _mapped(attr, args, kwargs)
            arguments = {**owner.kwargs, **mapped} if mapped else owner.kwargs
            ref = build.make_task(self, node, owner.target, sensor, arguments, complete)
            for upstream in edges.task_refs_in([args, kwargs]):
                edges.link(upstream, ref)
            return ref
        if attr == "partial":
            klass = owner.name if isinstance(owner, (OperatorClass, Imported)) else ""
            if klass.endswith(OPERATOR_SUFFIXES):
                return PartialValue(klass, kwargs, node)
        return NotImplemented

    def expand_taskflow(
        self,
        factory: TaskFactory,
        node: ast.Call,
        fixed: dict[str, Any],
        attr: str,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> TaskRef:
        """A mapped ``@task``: ``.partial(**fixed)`` and the mapped values, by parameter (an
        XComArg mapped over is an edge)."""
        if attr == "expand":
            return build.call_taskflow(self, factory, node, args, {**fixed, **kwargs})
        ref = build.call_taskflow(self, factory, node, [], {**fixed, **_mapped(attr, args, {})})
        for upstream in edges.task_refs_in(args):
            edges.link(upstream, ref)
        return ref

    def group_factory_call(
        self,
        owner: GroupFactory,
        node: ast.Call,
        attr: str,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> Any:
        """``group.override(...)``, ``.partial(...)``, ``.expand(...)``/``.expand_kwargs(...)``:
        a mapped group's tasks exist once in the DAG, like a mapped task."""
        if attr == "override":
            return overridden(owner, kwargs)
        if attr == "partial":
            return PartialValue(owner, kwargs, node)
        if attr in {"expand", "expand_kwargs"}:
            group = build.call_group_factory(self, owner, [], kwargs, node)
            for upstream in edges.task_refs_in(args):
                edges.link(upstream, group)
            return group
        return NotImplemented

    def current_dag(self) -> DagValue:
        if self.dag_stack:
            return self.dag_stack[-1]
        if self.orphan is None:
            orphan = Dag(dag_id=f"<{Path(self.path).name}>")
            self.orphan = DagValue(orphan, {})
            self.module.dags.append(orphan)
        return self.orphan

    def inline(
        self, function: FunctionValue, args: list[Any], kwargs: dict[str, Any], node: ast.AST
    ) -> Any:
        """Run a plain function's body with its arguments bound (task factories)."""
        if len(self.return_stack) >= _MAX_DEPTH:
            return UNKNOWN
        if self.inlined >= self.max_inlined:
            if self.module.unfollowed is None:
                self.module.unfollowed = self.locate(node)
            return UNKNOWN
        self.inlined += 1
        saved, saved_call = self.frames, self.enter(function.path, node)
        bound = self.bind_params(function.node, function.scope, args, kwargs)
        self.frames = [function.scope, bound]
        self.return_stack.append([])
        try:
            self.exec_block(function.node.body)
        finally:
            self.frames, self.foreign_call = saved, saved_call
            returned = self.return_stack.pop()
        return functools.reduce(branches.either, returned) if returned else None

    def enter(self, path: str, call: ast.AST | None) -> ast.AST | None:
        """Entering code of another file: what it creates is located at ``call`` in this
        one (the outermost such call). Returns the value to restore afterwards."""
        saved = self.foreign_call
        if path != self.path and saved is None:
            self.foreign_call = call
        return saved

    def locate(self, node: ast.AST, first: ast.AST | None = None) -> Location:
        """Each call site's span, computed once: a loop makes many tasks at one site."""
        if self.foreign_call is not None:
            node, first = self.foreign_call, None
        key = (id(node), id(first))
        where = self.locations.get(key)
        if where is None:
            where = self.locations[key] = location(self.path, node, first)
        return where

    def bind_params(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        scope: dict[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        """The function's parameters for one call; defaults not overridden are evaluated in
        ``scope``, where the function is defined (a sibling module's constants)."""
        positional = [*node.args.posonlyargs, *node.args.args]
        defaults = [None] * (len(positional) - len(node.args.defaults)) + list(node.args.defaults)
        frame: dict[str, Any] = {p.arg: value for p, value in zip(positional, args, strict=False)}
        pending: list[tuple[str, ast.expr]] = []
        for param, default in [
            *zip(positional, defaults, strict=True),
            *zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True),
        ]:
            if param.arg in frame:
                continue
            if param.arg in kwargs:
                frame[param.arg] = kwargs[param.arg]
            elif default is None:
                frame[param.arg] = UNKNOWN
            else:
                pending.append((param.arg, default))
        if pending:
            saved, self.frames = self.frames, [scope]
            try:
                frame.update((name, self.eval(default)) for name, default in pending)
            finally:
                self.frames = saved
        return frame


Interpreter._execs = dispatch_table(Interpreter, "_exec_")


def _mapped(attr: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, list[Any]]:
    """The literal values mapped over, by argument: ``.expand(x=[...])`` as given,
    ``.expand_kwargs([{...}, ...])`` gathered key by key. XComArgs and unknowns give none."""
    if attr == "expand":
        return {k: v for k, v in kwargs.items() if type(v) is list}
    runs = args[0] if len(args) == 1 and type(args[0]) is list else []
    mapped: dict[str, list[Any]] = {}
    for run in runs:
        if not isinstance(run, dict) or isinstance(run, OpenDict):
            return {}
        for key, value in run.items():
            mapped.setdefault(str(key), []).append(value)
    return mapped
