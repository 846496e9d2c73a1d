"""Linter settings from ``[tool.airflow-spof.lint]`` in ``pyproject.toml``.

The platform team knows what the code cannot: how many workers serve a queue,
how many slots a pool has, which connections are already highly available.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_spof.lint.model import Severity

DEFAULT_DEFERRABLE_SENSORS = ("UpstreamAvailabilitySensor", "FreshnessSensor")
DEFAULT_KUBERNETES_QUEUES = ("kubernetes",)
"""``kubernetes_queue`` of Airflow's Celery/Local Kubernetes executors: a pod per task."""


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass
class LintConfig:
    """Resolved settings; every field has a safe default so no config is needed."""

    select: list[str] = field(default_factory=lambda: ["SPF"])
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    default_queue: str = "default"
    kubernetes_queues: list[str] = field(default_factory=lambda: list(DEFAULT_KUBERNETES_QUEUES))
    pools: dict[str, int] = field(default_factory=dict)
    ha_connections: list[str] = field(default_factory=list)
    shared_paths: list[str] = field(default_factory=list)
    max_poke_timeout: float = 3600.0
    default_retries: int = 0
    deferrable_sensors: list[str] = field(default_factory=lambda: list(DEFAULT_DEFERRABLE_SENSORS))
    exclude: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING
    root: Path = field(default_factory=Path.cwd)
    _relative_cache: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def enabled(self, code: str, path: str | None = None) -> bool:
        """A code runs when selected, not ignored and not ignored for this file."""
        if not code.startswith(tuple(self.select)):
            return False
        if code.startswith(tuple(self.ignore)):
            return False
        if path is None or not self.per_file_ignores:
            return True
        rel = self._relative(path)
        for pattern, codes in self.per_file_ignores.items():
            if _matches(rel, pattern) and any(code.startswith(c) for c in codes):
                return False
        return True

    def is_excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        rel = self._relative(path)
        return any(_matches(rel, pattern) for pattern in self.exclude)

    def is_ha_connection(self, conn_id: str) -> bool:
        return any(fnmatch.fnmatchcase(conn_id, p) for p in self.ha_connections)

    def _relative(self, path: str) -> str:
        cached = self._relative_cache.get(path)
        if cached is None:
            try:
                cached = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                cached = Path(path).as_posix()
            self._relative_cache[path] = cached
        return cached


def _matches(rel: str, pattern: str) -> bool:
    return (
        fnmatch.fnmatch(rel, pattern)
        or fnmatch.fnmatch(Path(rel).name, pattern)
        or rel.startswith(pattern.rstrip("/") + "/")
    )


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with our table, walking up from ``start``."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for directory in (current, *current.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _lint_table(_read_toml(candidate)) is not None:
            return candidate
    return None


def load_config(path: Path | None = None, start: Path | None = None) -> LintConfig:
    """Load from an explicit file, or discover one upwards from ``start``."""
    if path is None:
        path = find_pyproject(start or Path.cwd())
    if path is None:
        return LintConfig(root=(start or Path.cwd()).resolve())
    data = _read_toml(path)
    table = _lint_table(data)
    return from_mapping(table or {}, root=path.resolve().parent, source=str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: most runs of pre-commit's hook find no config file to parse.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read TOML: {exc}") from exc


def _lint_table(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = data.get("tool", {})
    ours = tool.get("airflow-spof", {}) if isinstance(tool, Mapping) else {}
    table = ours.get("lint") if isinstance(ours, Mapping) else None
    return table if isinstance(table, Mapping) else None


_KEYS = {
    "select",
    "ignore",
    "severity",
    "per-file-ignores",
    "queues",
    "default-queue",
    "kubernetes-queues",
    "pools",
    "ha-connections",
    "shared-paths",
    "max-poke-timeout",
    "default-retries",
    "deferrable-sensors",
    "exclude",
    "fail-on",
}


def from_mapping(table: Mapping[str, Any], root: Path, source: str = "config") -> LintConfig:
    """Validate a config table; unknown keys are errors so typos do not go unnoticed."""
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) in [tool.airflow-spof.lint]: {', '.join(sorted(unknown))}"
        )
    cfg = LintConfig(root=root)
    cfg.select = _codes(table.get("select", cfg.select), "select", source)
    cfg.ignore = _codes(table.get("ignore", []), "ignore", source)
    cfg.severity = {
        code.upper(): _severity(value, f"severity.{code}", source)
        for code, value in _table(table, "severity", source).items()
    }
    cfg.per_file_ignores = {
        pattern: _codes(codes, f"per-file-ignores.{pattern}", source)
        for pattern, codes in _table(table, "per-file-ignores", source).items()
    }
    cfg.queues = _counts(_table(table, "queues", source), "queues", source)
    cfg.pools = _counts(_table(table, "pools", source), "pools", source)
    cfg.default_queue = str(table.get("default-queue", cfg.default_queue))
    cfg.kubernetes_queues = _strings(
        table.get("kubernetes-queues", cfg.kubernetes_queues), "kubernetes-queues", source
    )
    cfg.ha_connections = _strings(table.get("ha-connections", []), "ha-connections", source)
    cfg.shared_paths = _strings(table.get("shared-paths", []), "shared-paths", source)
    cfg.exclude = _strings(table.get("exclude", []), "exclude", source)
    cfg.deferrable_sensors = _strings(
        table.get("deferrable-sensors", cfg.deferrable_sensors), "deferrable-sensors", source
    )
    cfg.max_poke_timeout = float(
        _number(table.get("max-poke-timeout", 3600), "max-poke-timeout", source)
    )
    cfg.default_retries = int(_number(table.get("default-retries", 0), "default-retries", source))
    if "fail-on" in table:
        cfg.fail_on = _severity(table["fail-on"], "fail-on", source)
    return cfg


def _table(table: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: '{key}' must be a table")
    return value


def _strings(value: Any, key: str, source: str) -> list[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ConfigError(f"{source}: '{key}' must be a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{source}: '{key}' must be a list of strings")
    return list(value)


def _codes(value: Any, key: str, source: str) -> list[str]:
    return [code.strip().upper() for code in _strings(value, key, source)]


def _severity(value: Any, key: str, source: str) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise ConfigError(f"{source}: '{key}': {exc}") from None


def _number(value: Any, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{source}: '{key}' must be a number, got {value!r}")
    return value


def _counts(value: Mapping[str, Any], key: str, source: str) -> dict[str, int]:
    return {name: int(_number(count, f"{key}.{name}", source)) for name, count in value.items()}
