"""Lint files: discover, parse, extract facts, run rules, apply noqa and config."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_spof.lint import noqa
from airflow_spof.lint.checks import check_module, syntax_error
from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Finding, Module
from airflow_spof.lint.static.imports import ModuleLoader
from airflow_spof.lint.static.interpreter import Interpreter

_SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".venv", "venv", "node_modules", "site-packages", ".tox", "build"}
)


class LintInternalError(RuntimeError):
    """The linter itself failed on a file; the message names the file."""


@dataclass
class LintResult:
    """Findings, the facts behind them (for the inventory) and what was looked at."""

    findings: list[Finding] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    files: int = 0
    missing: list[str] = field(default_factory=list)


def discover(paths: Iterable[str], cfg: LintConfig) -> tuple[list[Path], list[str]]:
    """Python files under the given paths (sorted), and the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(_walk(path))
        else:
            missing.append(raw)
    unique = sorted(dict.fromkeys(files))
    return [f for f in unique if not cfg.is_excluded(str(f))], missing


def _walk(root: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in filenames:
            if name.endswith(".py"):
                yield Path(directory, name)


def build_scope(tree: ast.Module, path: str, loader: ModuleLoader) -> dict[str, Any]:
    """Module-level values of a sibling file (its DAGs are reported when it is linted itself)."""
    interpreter = Interpreter(path, loader)
    interpreter.run(tree)
    return interpreter.frames[0]


def lint_source(
    source: str, path: str, cfg: LintConfig, loader: ModuleLoader
) -> tuple[list[Finding], Module | None]:
    """Lint one file's text; a syntax error is a finding, not an exception."""
    if noqa.skip_file(source):
        return [], None
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        finding = syntax_error(path, exc.lineno or 1, exc.offset or 1, exc.msg, cfg)
        return ([finding] if cfg.enabled(finding.code, path) else []), None
    try:
        module = Interpreter(path, loader).run(tree)
    except RecursionError as exc:
        raise LintInternalError(f"{path}: file too deeply nested to analyse") from exc
    except Exception as exc:
        raise LintInternalError(f"{path}: {type(exc).__name__}: {exc}") from exc
    suppressions = noqa.parse(source)
    findings = [f for f in check_module(module, cfg) if not noqa.suppressed(f, suppressions)]
    return _dedupe(findings), module


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, int, int, str], Finding] = {}
    for finding in findings:
        seen.setdefault(
            (finding.code, finding.where.line, finding.where.col, finding.message), finding
        )
    return list(seen.values())


def lint_paths(paths: Iterable[str], cfg: LintConfig) -> LintResult:
    """The whole run: every file, findings sorted by location."""
    paths = list(paths)
    files, missing = discover(paths, cfg)
    roots = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths if Path(p).exists()]
    loader = ModuleLoader(roots or [Path.cwd()], build_scope)
    result = LintResult(files=len(files), missing=missing)
    for file in files:
        try:
            source = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            finding = syntax_error(str(file), 1, 1, f"not UTF-8 text ({exc.reason})", cfg)
            result.findings.append(finding)
            continue
        findings, module = lint_source(source, str(file), cfg, loader)
        result.findings.extend(findings)
        if module is not None:
            result.modules.append(module)
    result.findings.sort(key=Finding.sort_key)
    return result
