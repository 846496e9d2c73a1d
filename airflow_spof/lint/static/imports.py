"""Constants imported from sibling modules of the scanned tree, read not imported."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
