"""Constants imported from sibling modules of the scanned tree, read not imported."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_spof.lint.static.values import (
    OPERATOR_SUFFIXES,
    Imported,
    ModuleValue,
    OpenDict,
    OperatorClass,
)

_NEVER_LOCAL = frozenset(sys.stdlib_module_names) | {
    "airflow",
    "airflow_spof",
    "pendulum",
    "pandas",
    "numpy",
    "kubernetes",
    "boto3",
    "requests",
}
ScopeBuilder = Callable[[ast.Module, str, "ModuleLoader"], dict[str, Any]]


class ModuleLoader:
    """Finds ``from x.y import Z`` targets as files under the scan roots and caches their scopes."""

    def __init__(self, roots: list[Path], build: ScopeBuilder) -> None:
        self.roots = [r.resolve() for r in roots]
        self._build = build
        self._cache: dict[Path, dict[str, Any] | None] = {}
        self._loading: set[Path] = set()
        self._found: dict[tuple[str, int, str], Path | None] = {}

    def find(self, module: str, level: int, from_file: str) -> Path | None:
        """The file a module name refers to, searched from the importing file upwards."""
        if not module and level == 0:
            return None
        if level == 0 and module.split(".")[0] in _NEVER_LOCAL:
            return None
        key = (module, level, str(Path(from_file).parent))
        if key not in self._found:
            self._found[key] = self._search(module, level, from_file)
        return self._found[key]

    def _search(self, module: str, level: int, from_file: str) -> Path | None:
        here = Path(from_file).resolve().parent
        parts = module.split(".") if module else []
        if level > 0:
            bases = [here.parents[level - 2] if level > 1 else here]
        else:
            bases = [here, *[p for p in here.parents if self._inside_roots(p)]]
        for base in bases:
            candidate = base.joinpath(*parts)
            for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if parts and path.is_file():
                    return path
                if not parts and path.name == "__init__.py" and path.is_file():
                    return path
        return None

    def _inside_roots(self, path: Path) -> bool:
        return any(path == root or root in path.parents for root in self.roots)

    def scope_of(self, path: Path) -> dict[str, Any] | None:
        """Module-level values of a sibling file; None if it cannot be read or is cyclic."""
        path = path.resolve()
        if path in self._cache:
            return self._cache[path]
        if path in self._loading:
            return None
        self._loading.add(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            scope: dict[str, Any] | None = self._build(tree, str(path), self)
        except (OSError, SyntaxError, ValueError, RecursionError):
            scope = None
        finally:
            self._loading.discard(path)
        self._cache[path] = scope
        return scope


def bind_import(loader: ModuleLoader, stmt: ast.Import, path: str) -> dict[str, Any]:
    """``import common`` / ``import common.settings as s``: sibling modules by name."""
    bound: dict[str, Any] = {}
    for alias in stmt.names:
        found = loader.find(alias.name, 0, path)
        scope = loader.scope_of(found) if found else None
        if scope is not None and (alias.asname or "." not in alias.name):
            bound[alias.asname or alias.name] = ModuleValue(scope)
    return bound


def bind_import_from(loader: ModuleLoader, stmt: ast.ImportFrom, path: str) -> dict[str, Any]:
    """``from x import a, b as c``: a sibling module's values or submodules (``from common
    import settings``), operator classes by their name, anything else as ``Imported``."""
    module = stmt.module or ""
    local = not module.startswith(("airflow.", "airflow_spof")) and module != "airflow"
    found = loader.find(module, stmt.level, path) if local else None
    scope = loader.scope_of(found) if found else None
    bound: dict[str, Any] = {}
    for alias in stmt.names:
        name = alias.asname or alias.name
        if name == "*":
            bound.update((n, _own(v)) for n, v in _public(scope or {}).items())
            continue
        if scope is not None and alias.name in scope:
            bound[name] = _own(scope[alias.name])
            continue
        if local and alias.name.islower():  # modules are lower case; constants rarely are
            sub = loader.find(f"{module}.{alias.name}" if module else alias.name, stmt.level, path)
            sub_scope = loader.scope_of(sub) if sub else None
            if sub_scope is not None:
                bound[name] = ModuleValue(sub_scope)
                continue
        if alias.name.endswith(OPERATOR_SUFFIXES):
            bound[name] = OperatorClass(alias.name, "Sensor" in alias.name)
        else:
            bound[name] = Imported(alias.name, module)
    return bound


def _public(scope: dict[str, Any]) -> dict[str, Any]:
    """What ``from module import *`` binds: ``__all__``, or the names without a ``_``."""
    exported = scope.get("__all__")
    names = exported if isinstance(exported, (list, tuple)) else list(scope)
    return {n: scope[n] for n in names if isinstance(n, str) and n in scope and n[:1] != "_"}


def _own(value: Any) -> Any:
    """The importing file's own copy of a dict or list: ``ARGS["retries"] = 0`` in one DAG
    file must not reach the others (Airflow parses each file in its own process)."""
    return type(value)(value) if type(value) in _CONTAINERS else value


_CONTAINERS = (dict, list, OpenDict)
