"""Builtins and str/dict methods that DAG files build constants and loops with.

``for name, conn in TABLES.items()``, ``enumerate(...)``, ``"load_{}".format(t)``:
computed from known values so each task gets its own id and arguments; anything
else stays UNKNOWN (or a ``PartialStr`` with ``{?}`` holes).
"""

from __future__ import annotations

import ast
import operator
import posixpath
import re
import string
from datetime import timedelta
from typing import Any

from airflow_spof.lint.model import UNKNOWN, PartialStr
from airflow_spof.lint.static.values import OpenDict

MAX_ITEMS = 64
"""Longest sequence a loop or builtin is followed over."""

ITERATION_CALLS = frozenset({"enumerate", "zip", "sorted", "reversed", "list", "tuple"})
_DURATION_CALLS = frozenset({"timedelta", "duration"})
VALUE_CALLS = (
    frozenset({"dict", "Path", "PurePath", "PosixPath", "join", "range"})
    | _DURATION_CALLS
    | ITERATION_CALLS
)
"""Last parts of the call names ``value_call`` computes a value for; others create objects."""


def is_value_call(short: str) -> bool:
    return short in VALUE_CALLS or short.startswith("V1") or short.endswith("Hook")


DICT_METHODS = frozenset({"copy", "get", "update", "items", "keys", "values"})
STR_METHODS = frozenset({"format", "lower", "upper", "replace", "join"})
LIST_METHODS = frozenset({"append", "extend", "insert"})
_MAX_LIST = 10_000

KNOWN_SCALARS = (str, int, float, bool, type(None))
_WIDE = re.compile(r"%[^a-zA-Z%]*(\*|\d{4,})")
"""A ``*`` width or one of 4+ digits: formatting could build a string of any size."""
_WIDE_SPEC = re.compile(r"\d{4,}|\{")


def too_wide(spec: str) -> bool:
    """A format spec with a width of 4+ digits (or a nested field) could build a string of
    any size."""
    return _WIDE_SPEC.search(spec) is not None


def items_of(value: Any) -> list[Any] | None:
    """The elements of a known, small iterable; None when unknown or too long."""
    if isinstance(value, dict):
        value = list(value)
    if isinstance(value, (list, tuple, range)) and len(value) <= MAX_ITEMS:
        return list(value)
    return None


def value_call(
    name: str, short: str, args: list[Any], kwargs: dict[str, Any], complete: bool
) -> Any:
    """``dict(...)``, ``timedelta(...)``, ``Path(...)``, ``os.path.join(...)``, ``range(...)``,
    iteration builtins and ``k8s.V1...(...)`` specs; NotImplemented for any other call."""
    if short == "dict" and (not args or isinstance(args[0], dict)):
        base = args[0] if args else {}
        merged = {**base, **kwargs}
        return OpenDict(merged) if not complete or isinstance(base, OpenDict) else merged
    if short in _DURATION_CALLS and not args:
        try:
            return timedelta(**kwargs)
        except TypeError:
            return UNKNOWN
    strings = bool(args) and all(isinstance(a, str) for a in args)
    if strings and (
        short in {"Path", "PurePath", "PosixPath"}
        or name in {"os.path.join", "path.join", "posixpath.join"}
    ):
        return posixpath.join(*args)
    if name == "range" and args and all(isinstance(a, int) for a in args):
        span = range(*args[:3])
        return span if len(span) <= MAX_ITEMS else UNKNOWN
    if name in ITERATION_CALLS:
        return iteration_call(name, args, kwargs)
    if (short.startswith("V1") or (short.endswith("Hook") and not args)) and complete:
        return {**kwargs, "__kind__": short}  # a pod spec, or a hook given to an operator
    return NotImplemented


def iteration_call(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``enumerate``, ``zip``, ``sorted``, ``reversed``, ``list``, ``tuple`` of known values."""
    if name == "enumerate":
        start = kwargs.get("start", args[1] if len(args) > 1 else 0)
        items = items_of(args[0]) if args and isinstance(start, int) else None
        return list(enumerate(items, start)) if items is not None else UNKNOWN
    if name == "zip" and not kwargs:
        columns = [items_of(a) for a in args]
        if args and all(c is not None for c in columns):
            return list(zip(*columns, strict=False))
        return UNKNOWN
    if len(args) != 1 or (kwargs and name != "sorted"):
        return UNKNOWN
    items = items_of(args[0])
    if items is None:
        return UNKNOWN
    if name == "sorted":
        reverse = kwargs.get("reverse", False)
        if set(kwargs) - {"reverse"} or not isinstance(reverse, bool):
            return UNKNOWN
        try:
            return sorted(items, reverse=reverse)
        except TypeError:
            return UNKNOWN
    if name == "reversed":
        return items[::-1]
    return tuple(items) if name == "tuple" else items


def dict_method(owner: dict[Any, Any], attr: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if attr == "copy":
        return type(owner)(owner)
    if attr == "get":
        if args and hashable(args[0]):
            return owner.get(args[0], args[1] if len(args) > 1 else None)
        return UNKNOWN
    if attr == "update":
        for arg in args:
            if isinstance(arg, dict):
                owner.update(arg)
        owner.update(kwargs)
        return None
    if attr == "keys":
        return list(owner)
    if attr == "values":
        return list(owner.values())
    return list(owner.items())


def list_method(owner: list[Any], attr: str, args: list[Any]) -> Any:
    """``tasks.append(op)``: lists of tasks built in loops, then used in ``>>``."""
    if len(owner) < _MAX_LIST:
        if attr == "append" and len(args) == 1:
            owner.append(args[0])
        elif attr == "extend" and len(args) == 1:
            items = items_of(args[0])
            owner.extend(items if items is not None else [UNKNOWN])
        elif attr == "insert" and len(args) == 2 and isinstance(args[0], int):
            owner.insert(args[0], args[1])
    return None


def str_method(owner: str, attr: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    partial = isinstance(owner, PartialStr)
    if attr == "format":
        result = _format(owner, args, kwargs)
        return PartialStr(result) if partial else result
    if attr in {"lower", "upper"} and not args:
        result = owner.lower() if attr == "lower" else owner.upper()
    elif attr == "replace" and len(args) == 2 and all(isinstance(a, str) for a in args):
        result = owner.replace(args[0], args[1])
        partial = partial or any(isinstance(a, PartialStr) for a in args)
    elif attr == "join" and args and isinstance(args[0], (list, tuple)):
        parts = [p if isinstance(p, str) else "{?}" for p in args[0]]
        result = owner.join(parts)
        partial = partial or any(type(p) is not str for p in args[0])
    else:
        return UNKNOWN
    return PartialStr(result) if partial else result


class _Hole:
    """Stands for an unknown value in ``str.format``."""

    def __format__(self, spec: str) -> str:
        return "{?}"

    def __repr__(self) -> str:
        return "{?}"

    __str__ = __repr__


def _format(template: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    """``template.format(...)``; unknown values show as ``{?}`` (then it is a PartialStr)."""
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(template)]
    except ValueError:
        return PartialStr(template)
    if any(too_wide(spec) for spec in specs):
        return PartialStr(template)
    holes = False

    def known(value: Any) -> Any:
        nonlocal holes
        if type(value) in KNOWN_SCALARS or type(value) is PartialStr:
            holes = holes or isinstance(value, PartialStr)
            return value
        holes = True
        return _Hole()

    try:
        result = template.format(*map(known, args), **{k: known(v) for k, v in kwargs.items()})
    except (IndexError, KeyError, ValueError, AttributeError, TypeError):
        return PartialStr(template)
    return PartialStr(result) if holes else result


def percent(template: str, values: Any) -> str:
    """``template % values`` when every value is known (``PartialStr`` otherwise)."""
    if isinstance(values, dict):
        items = list(values.values())
    else:
        items = list(values) if isinstance(values, tuple) else [values]
    if (
        isinstance(template, PartialStr)
        or _WIDE.search(template)
        or not all(type(v) in KNOWN_SCALARS for v in items)
    ):
        return PartialStr(template)
    try:
        return str(template % values)
    except (TypeError, ValueError, KeyError):
        return PartialStr(template)


_COMPARISONS: dict[type, Any] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_CONTAINERS = (list, tuple, dict, str)


def truth(value: Any) -> bool | None:
    """``bool(value)`` when it is known; None for anything run time could decide."""
    kind = type(value)
    if kind in KNOWN_SCALARS or kind in _CONTAINERS:
        return bool(value)
    if kind is OpenDict and value:
        return True
    return None


def compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    """``left <op> right`` for known scalars (and containers of them on the right of ``in``)."""
    if type(left) not in KNOWN_SCALARS or not _known(right):
        return UNKNOWN
    if isinstance(op, (ast.Is, ast.IsNot)) and not (left is None or right is None):
        return UNKNOWN
    try:
        return bool(_COMPARISONS[type(op)](left, right))
    except (KeyError, TypeError):
        return UNKNOWN


def _known(value: Any) -> bool:
    kind = type(value)
    if kind in KNOWN_SCALARS:
        return True
    if kind in (list, tuple):
        return all(type(v) in KNOWN_SCALARS for v in value)
    return kind is dict and all(type(v) in KNOWN_SCALARS for v in value)


def hashable(value: Any) -> bool:
    """Can ``value`` be a dict key (a list or dict evaluated from the source cannot)?"""
    try:
        hash(value)
    except TypeError:
        return False
    return True
