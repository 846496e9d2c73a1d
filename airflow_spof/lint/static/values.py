"""Values the static interpreter passes around besides plain Python literals.

Most are handles to one object being built (a DAG, a group, a function): they equal only
themselves and need no generated ``__eq__``/``__repr__`` (generating dataclass methods was a
third of the linter's import time, paid by every pre-commit run). ``TaskRef`` compares by
value.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_spof.lint.model import UNKNOWN, Dag, PartialStr, PathUse

OPERATOR_SUFFIXES = ("Operator", "Sensor", "SensorAsync")
"""Names ending like this create tasks when called."""


class OpenDict(dict):
    """A dict that may hold more keys than we could see (``**unknown`` was merged)."""


@dataclass(eq=False, repr=False)
class DagValue:
    """A DAG object created in the file, with its default_args."""

    dag: Dag
    default_args: dict[str, Any]
    group_ids: set[str] = field(default_factory=set)
    """Group ids used so far, for the ``__1`` suffix of a decorated group called again."""


@dataclass(eq=False, repr=False)
class GroupValue:
    """A TaskGroup: its full id, how it names its children, and the task ids inside it."""

    group_id: str
    dag: DagValue | None
    task_ids: list[str] = field(default_factory=list)
    parent: GroupValue | None = None
    prefix: bool = True
    """``prefix_group_id``: children are named ``<group_id>.<label>``."""
    default_args: dict[str, Any] = field(default_factory=dict)
    """The parent's default_args with this group's own on top (they override the DAG's)."""

    def child_id(self, label: str) -> str:
        return f"{self.group_id}.{label}" if self.prefix and self.group_id else label


@dataclass
class TaskRef:
    """One or more tasks (a task, an XComArg, a mapped task) usable in ``>>``."""

    dag: DagValue
    task_ids: list[str]


@dataclass(eq=False, repr=False)
class BodyFacts:
    """What a ``@task`` function body does, found once per function (or, combined, what
    the methods a custom operator's task runs do)."""

    conn_ids: list[str] = field(default_factory=list)
    reads_external: bool = False
    """It calls something that reads (``get_records``, ``requests.get``...) and names
    what it reads from (a connection, a host)."""
    read_calls: bool = False
    """It calls something that reads, whether or not it names what."""
    hosts: list[str] = field(default_factory=list)
    uses_replicas: bool = False
    paths: list[PathUse] = field(default_factory=list)
    returns_paths: list[str] = field(default_factory=list)
    param_reads: set[str] = field(default_factory=set)
    conn_params: list[str] = field(default_factory=list)
    """Parameters the body opens as connection ids: each call's arguments name them."""
    conn_attrs: list[str] = field(default_factory=list)
    """Attributes of ``self`` a method opens as connection ids (a custom operator's
    ``execute``): each task's own object names them."""

    def names_a_source(self) -> bool:
        return bool(self.conn_ids or self.hosts or self.conn_params or self.conn_attrs)

    def conn_ids_given(self, bound: dict[str, Any]) -> list[str]:
        """The connection ids one call passes for ``conn_params`` (known strings only)."""
        return _known_ids(bound.get(param) for param in self.conn_params)

    def conn_ids_held(self, attribute: Callable[[str], Any]) -> list[str]:
        """The connection ids one object holds in ``conn_attrs`` (known strings only)."""
        return _known_ids(attribute(name) for name in self.conn_attrs)


def _known_ids(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v and not isinstance(v, PartialStr)]


@dataclass(eq=False, repr=False)
class SiteFacts:
    """What rules derive from a task's arguments (``Task.memo``) and the paths they name,
    shared by the tasks one call site makes while their arguments repeat: a loop building
    forty tasks at one call works them out once."""

    arguments: dict[str, Any]
    """The arguments of the task they were made for; its ``task_id`` is overwritten by
    each comparison (ids differ by design)."""
    inherited: set[str]
    memo: dict[str, Any] = field(default_factory=dict)
    paths: list[PathUse] | None = None
    body: BodyFacts | None = None
    """What its ``python_callable`` does, if it is a function of the scanned tree, or
    what the methods of a custom operator of the tree do."""
    given: list[str] = field(default_factory=list)
    """The connection ids the task's arguments give that code (``op_args``/``op_kwargs``,
    ``functools.partial``, a custom operator's ``__init__`` parameters and attributes)."""

    def matches(self, arguments: dict[str, Any], inherited: set[str]) -> bool:
        """Same arguments apart from ``task_id``, of the same types (a ``PartialStr`` and
        a ``str`` of equal text are not the same argument), inherited the same way."""
        if "task_id" in arguments and "task_id" in self.arguments:
            self.arguments["task_id"] = arguments["task_id"]
        return (
            self.arguments == arguments
            and list(map(type, self.arguments.values())) == list(map(type, arguments.values()))
            and self.inherited == inherited
        )


@dataclass(eq=False, repr=False)
class FunctionValue:
    """A plain function we can inline when it is called (task factories)."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    scope: dict[str, Any]
    path: str = ""
    """The file it is defined in (tasks it makes elsewhere are reported where it is called)."""


@dataclass(eq=False, repr=False)
class BoundFunction:
    """``functools.partial(function, *args, **kwargs)``: a plain function with some of its
    arguments given (a ``python_callable``, or a factory called later)."""

    function: FunctionValue
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False, repr=False)
class TaskFactory:
    """A ``@task``-decorated function: calling it creates a task."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    kind: str
    kwargs: dict[str, Any]
    scope: dict[str, Any]
    path: str = ""
    """The file it is defined in (tasks it makes elsewhere are reported where it is called)."""


@dataclass(eq=False, repr=False)
class DagFactory:
    """A ``@dag``-decorated function: calling it creates a DAG."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    kwargs: dict[str, Any]
    scope: dict[str, Any]
    path: str = ""
    """The file it is defined in (tasks it makes elsewhere are reported where it is called)."""
    called: bool = False


@dataclass(eq=False, repr=False)
class GroupFactory:
    """A ``@task_group``-decorated function."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    kwargs: dict[str, Any]
    scope: dict[str, Any]
    path: str = ""
    """The file it is defined in (tasks it makes elsewhere are reported where it is called)."""


@dataclass(eq=False, repr=False)
class PartialValue:
    """``Operator.partial(...)`` or ``factory.partial(...)`` waiting for ``.expand``."""

    target: str | TaskFactory | GroupFactory
    kwargs: dict[str, Any]
    node: ast.Call


@dataclass(eq=False, repr=False)
class OperatorClass:
    """A name that creates operators when called (imported or defined in the file)."""

    name: str
    is_sensor: bool
    local: LocalClass | None = None
    """Its definition, when it is a class of the scanned tree (its methods are read)."""


@dataclass(eq=False, repr=False)
class ModuleValue:
    """A sibling module imported as a whole (``import common``)."""

    scope: dict[str, Any]
    own: dict[str, Any] = field(default_factory=dict)
    """This import's copies of the module's dicts and lists (changes stay in one file)."""

    def attribute(self, name: str) -> Any:
        if name in self.own:
            return self.own[name]
        value = self.scope.get(name, UNKNOWN)
        if type(value) in (dict, list, OpenDict):
            value = self.own[name] = type(value)(value)
        return value


@dataclass(eq=False, repr=False)
class Imported:
    """A name imported from a module outside the scanned tree (``airflow.sdk.DAG``)."""

    name: str
    module: str


@dataclass(eq=False, repr=False)
class LocalClass:
    """A class of the scanned tree that is not an operator (whatever its name: a maths
    library's ``IdentityOperator``): calling it makes a plain object, not a task. Its
    methods are followed like plain functions (a DAG factory written as a class)."""

    name: str
    methods: dict[str, FunctionValue] = field(default_factory=dict)
    static: set[str] = field(default_factory=set)
    """Methods called without ``self`` (``@staticmethod``)."""
    classwide: set[str] = field(default_factory=set)
    """Methods called with the class for ``self`` (``@classmethod``)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """Class attributes set in its body."""


@dataclass(eq=False, repr=False)
class Instance:
    """An object of a ``LocalClass``: what its methods set on ``self``, over the class's."""

    cls: LocalClass
    attributes: dict[str, Any] = field(default_factory=dict)

    def attribute(self, name: str) -> Any:
        if name in self.attributes:
            return self.attributes[name]
        return self.cls.attributes.get(name, UNKNOWN)


@dataclass(eq=False, repr=False)
class LabelValue:
    """``a >> Label("why")``: remembers ``a`` so ``>> b`` links a to b."""

    upstream: Any


Factory = TypeVar("Factory", TaskFactory, GroupFactory)


def overridden(factory: Factory, kwargs: dict[str, Any]) -> Factory:
    """``factory.override(...)``: the same function with more decorator arguments."""
    merged = {**factory.kwargs, **kwargs}
    if isinstance(factory.kwargs, OpenDict) or isinstance(kwargs, OpenDict):
        merged = OpenDict(merged)
    return dataclasses.replace(factory, kwargs=merged)
