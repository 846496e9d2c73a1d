"""Best-effort evaluation of expressions to Python values, without running code.

Anything that depends on run time (env vars, Variables, function results)
becomes UNKNOWN, and rules stay silent about UNKNOWN rather than guess.
"""

from __future__ import annotations

import ast
import operator
import posixpath
from collections.abc import Callable
from typing import Any, ClassVar

from airflow_spof.lint.model import UNKNOWN, PartialStr
from airflow_spof.lint.static import branches, builtins
from airflow_spof.lint.static.values import (
    DagValue,
    Instance,
    LocalClass,
    ModuleValue,
    OpenDict,
    TaskRef,
)

_ARITH = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
}
_CONSTANT, _NAME = ast.Constant, ast.Name
_FORMATTABLE = frozenset({str, PartialStr, int, float})  # as before, a bool leaves a hole


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for Name/Attribute chains, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def dispatch_table(cls: type, prefix: str) -> dict[type, Callable[..., Any]]:
    """``{ast.Name: cls._eval_Name, ...}`` for every ``<prefix><NodeType>`` method of ``cls``,
    so dispatch is one dict lookup per node instead of building a name and calling getattr."""
    table: dict[type, Callable[..., Any]] = {}
    for name in dir(cls):
        node_type = getattr(ast, name[len(prefix) :], None) if name.startswith(prefix) else None
        if isinstance(node_type, type) and issubclass(node_type, ast.AST):
            table[node_type] = getattr(cls, name)
    return table


class Evaluator:
    """Evaluates expressions against a stack of scopes (module first, innermost last)."""

    _evals: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._evals = dispatch_table(cls, "_eval_")

    def __init__(self, scope: dict[str, Any]) -> None:
        self.frames: list[dict[str, Any]] = [scope]

    # -- scopes ---------------------------------------------------------------------------
    def lookup(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        return UNKNOWN

    def bind(self, target: ast.AST, value: Any) -> None:
        """Assign to a Name, unpack into a Tuple, or set a key of a known dict."""
        if isinstance(target, ast.Name):
            self.frames[-1][target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value if isinstance(value, (list, tuple)) else None
            for index, element in enumerate(target.elts):
                inner = items[index] if items is not None and index < len(items) else UNKNOWN
                self.bind(element, inner)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            key = self.eval(target.slice)
            if isinstance(container, dict) and builtins.hashable(key) and key is not UNKNOWN:
                container[key] = value

    # -- expressions ----------------------------------------------------------------------
    def eval(self, node: ast.AST | None) -> Any:
        kind = type(node)
        if kind is _CONSTANT:  # a third of all nodes: answered without a dispatch call
            return node.value  # type: ignore[union-attr]
        if kind is _NAME:
            name = node.id  # type: ignore[union-attr]
            for frame in reversed(self.frames):
                if name in frame:
                    return frame[name]
            return UNKNOWN
        if node is None:
            return None
        method = self._evals.get(kind)
        return method(self, node) if method is not None else UNKNOWN

    def _eval_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _eval_Name(self, node: ast.Name) -> Any:
        return self.lookup(node.id)

    def _eval_JoinedStr(self, node: ast.JoinedStr) -> Any:
        parts: list[str] = []
        partial = False
        for value in node.values:
            if type(value) is ast.Constant:
                parts.append(str(value.value))
                continue
            text = self._formatted(value) if isinstance(value, ast.FormattedValue) else None
            if text is None:
                partial = True
                parts.append("{?}")
            else:
                partial = partial or type(text) is PartialStr
                parts.append(text)
        text = "".join(parts)
        return PartialStr(text) if partial else text

    def _formatted(self, node: ast.FormattedValue) -> str | None:
        """One ``{value!conversion:spec}`` as Python prints it; None when the value is not
        known, or the spec is unknown, refused or could build a huge string."""
        inner = self.eval(node.value)
        kind = type(inner)
        if kind not in _FORMATTABLE:
            return None
        if node.conversion == -1 and node.format_spec is None:
            return inner if kind is str or kind is PartialStr else str(inner)
        if node.conversion == ord("r"):
            inner = repr(str(inner) if kind is PartialStr else inner)
        elif node.conversion == ord("a"):
            inner = ascii(str(inner) if kind is PartialStr else inner)
        spec = "" if node.format_spec is None else self.eval(node.format_spec)
        if type(spec) is not str or builtins.too_wide(spec):
            return None
        try:
            text = format(inner, spec)
        except (TypeError, ValueError):
            return None
        return PartialStr(text) if kind is PartialStr else text

    def _eval_Attribute(self, node: ast.Attribute) -> Any:
        base = self.eval(node.value)
        if isinstance(base, ModuleValue):
            return base.attribute(node.attr)
        if isinstance(base, TaskRef) and node.attr == "output":
            return base
        if isinstance(base, DagValue) and node.attr == "default_args":
            return base.default_args
        if isinstance(base, Instance):
            return base.attribute(node.attr)
        if isinstance(base, LocalClass):
            return base.attributes.get(node.attr, base.methods.get(node.attr, UNKNOWN))
        return UNKNOWN

    def _eval_Dict(self, node: ast.Dict) -> Any:
        result: dict[Any, Any] = {}
        is_open = False
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            value = self.eval(value_node)
            if key_node is None:
                if isinstance(value, dict):
                    is_open = is_open or isinstance(value, OpenDict)
                    result.update(value)
                else:
                    is_open = True
                continue
            key = self.eval(key_node)
            if builtins.hashable(key) and key is not UNKNOWN:
                result[key] = value
            else:
                is_open = True
        return OpenDict(result) if is_open else result

    def _eval_List(self, node: ast.List) -> Any:
        return self._sequence(node.elts)

    def _eval_Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self._sequence(node.elts))

    def _eval_Set(self, node: ast.Set) -> Any:
        return self._sequence(node.elts)

    def _sequence(self, elts: list[ast.expr]) -> list[Any]:
        items: list[Any] = []
        for element in elts:
            if isinstance(element, ast.Starred):
                inner = self.eval(element.value)
                items.extend(inner if isinstance(inner, (list, tuple)) else [UNKNOWN])
            else:
                items.append(self.eval(element))
        return items

    def _eval_ListComp(self, node: ast.ListComp) -> Any:
        return self._comprehension(node)

    def _eval_GeneratorExp(self, node: ast.GeneratorExp) -> Any:
        return self._comprehension(node)

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp) -> Any:
        if len(node.generators) != 1 or node.generators[0].ifs:
            return UNKNOWN
        generator = node.generators[0]
        items = self.iterate(self.eval(generator.iter))
        self.frames.append({})
        try:
            result = []
            for item in items if items is not None else [UNKNOWN]:
                self.bind(generator.target, item)
                result.append(self.eval(node.elt))
            return result if items is not None else UNKNOWN
        finally:
            self.frames.pop()

    def iterate(self, value: Any) -> list[Any] | None:
        """The elements of a known, small iterable; None when unknown or too long."""
        return builtins.items_of(value)

    def _eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.USub) and isinstance(value, (int, float)):
            return -value
        if isinstance(node.op, ast.Not):
            truth = builtins.truth(value)
            return UNKNOWN if truth is None else not truth
        return UNKNOWN

    def _eval_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.BitOr) and isinstance(left, dict) and isinstance(right, dict):
            merged = {**left, **right}
            return (
                OpenDict(merged)
                if isinstance(left, OpenDict) or isinstance(right, OpenDict)
                else merged
            )
        if isinstance(node.op, ast.Div) and isinstance(left, str) and isinstance(right, str):
            return posixpath.join(left, right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            return builtins.percent(left, right)
        op = _ARITH.get(type(node.op))
        if op is None or left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if op is operator.mul and _too_long(left, right):
            return UNKNOWN
        try:
            result = op(left, right)
        except Exception:
            return UNKNOWN
        if isinstance(result, str) and (
            isinstance(left, PartialStr) or isinstance(right, PartialStr)
        ):
            return PartialStr(result)
        return result

    def _eval_Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            result = builtins.compare(op, left, right)
            if result is not True:
                return result
            left = right
        return True

    def _eval_BoolOp(self, node: ast.BoolOp) -> Any:
        """Python's ``and``/``or`` (the deciding operand), while truth values are known."""
        stop_on = isinstance(node.op, ast.Or)
        value: Any = UNKNOWN
        for operand in node.values:
            value = self.eval(operand)
            truth = builtins.truth(value)
            if truth is None:
                return UNKNOWN
            if truth is stop_on:
                return value
        return value

    def _eval_IfExp(self, node: ast.IfExp) -> Any:
        truth = builtins.truth(self.eval(node.test))
        if truth is None:
            return branches.either(self.eval(node.body), self.eval(node.orelse))
        return self.eval(node.body if truth else node.orelse)

    def _eval_Slice(self, node: ast.Slice) -> Any:
        parts = [self.eval(p) for p in (node.lower, node.upper, node.step)]
        if all(p is None or isinstance(p, int) for p in parts):
            return slice(*parts)
        return UNKNOWN

    def _eval_Subscript(self, node: ast.Subscript) -> Any:
        container, key = self.eval(node.value), self.eval(node.slice)
        if isinstance(container, TaskRef):  # ``extract()["key"]`` is still that task's XCom
            return container
        if isinstance(key, slice) and isinstance(container, (list, tuple, str)):
            return container[key]
        try:
            if isinstance(container, dict) and builtins.hashable(key):
                return container.get(key, UNKNOWN)
            if isinstance(container, (list, tuple)) and isinstance(key, int):
                return container[key]
        except IndexError:
            return UNKNOWN
        return UNKNOWN

    def _eval_Call(self, node: ast.Call) -> Any:
        name = dotted(node.func)
        short = name.rsplit(".", 1)[-1]
        owner: Any = UNKNOWN
        if isinstance(node.func, ast.Attribute):
            owner = self.eval(node.func.value)
            method_result = self.method_call(node, node.func, owner)
            if method_result is not NotImplemented:
                return method_result
        args = self._positional(node.args)
        kwargs, complete = self.keywords(node)
        if not builtins.is_value_call(short):
            return self.call_hook(node, name, args, kwargs, complete, owner)
        value = builtins.value_call(name, short, args, kwargs, complete)
        if value is not NotImplemented:
            return value
        return self.call_hook(node, name, args, kwargs, complete, owner)

    def method_call(self, node: ast.Call, func: ast.Attribute, owner: Any) -> Any:
        """The dict, list and str methods constants are built with (``update``, ``items``,
        ``append``, ``format``...); ``owner`` is ``func.value`` evaluated once by the caller."""
        if isinstance(owner, dict) and func.attr in builtins.DICT_METHODS:
            kwargs, _ = self.keywords(node)
            return builtins.dict_method(owner, func.attr, self._positional(node.args), kwargs)
        if type(owner) is list and func.attr in builtins.LIST_METHODS:
            return builtins.list_method(owner, func.attr, self._positional(node.args))
        if isinstance(owner, str) and func.attr in builtins.STR_METHODS:
            kwargs, _ = self.keywords(node)
            return builtins.str_method(owner, func.attr, self._positional(node.args), kwargs)
        return NotImplemented

    def _positional(self, nodes: list[ast.expr]) -> list[Any]:
        """Positional arguments; ``*known_list`` is spread, ``*unknown`` is left out."""
        args: list[Any] = []
        for arg in nodes:
            if type(arg) is ast.Starred:
                spread = self.eval(arg.value)
                if isinstance(spread, (list, tuple)):
                    args.extend(spread)
            else:
                args.append(self.eval(arg))
        return args

    def keywords(self, node: ast.Call) -> tuple[dict[str, Any], bool]:
        """Keyword arguments, with ``**mapping`` merged; False when something was hidden."""
        kwargs: dict[str, Any] = {}
        complete = True
        for keyword in node.keywords:
            value = self.eval(keyword.value)
            if keyword.arg is None:
                if isinstance(value, dict):
                    kwargs.update(value)
                    complete = complete and not isinstance(value, OpenDict)
                else:
                    complete = False
            else:
                kwargs[keyword.arg] = value
        return kwargs, complete

    def known_keywords(self, call: ast.Call) -> dict[str, Any]:
        """Keyword arguments; an OpenDict when ``**unknown`` may have held more."""
        kwargs, complete = self.keywords(call)
        return kwargs if complete else OpenDict(kwargs)

    def call_hook(
        self,
        node: ast.Call,
        name: str,
        args: list[Any],
        kwargs: dict[str, Any],
        complete: bool,
        owner: Any,
    ) -> Any:
        """Calls that create DAG objects; the interpreter overrides this. ``owner`` is the
        evaluated object of a method call (never evaluated twice: it may create tasks)."""
        return UNKNOWN


Evaluator._evals = dispatch_table(Evaluator, "_eval_")


def _too_long(left: Any, right: Any) -> bool:
    """``"-" * 80`` is a banner; ``"x" * 10**8`` would be built in memory for nothing."""
    count, sequence = (right, left) if isinstance(right, int) else (left, right)
    return isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and count > 10_000
