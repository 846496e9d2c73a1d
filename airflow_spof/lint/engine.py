"""Lint files: discover, parse, extract facts, run rules, apply noqa and config."""

from __future__ import annotations

import ast
import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_spof.lint import noqa
from airflow_spof.lint.checks import check_module, syntax_error
from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Finding, Module
from airflow_spof.lint.reporters.blocks import Block, BlockFormat, Collision, assemble, render_block
from airflow_spof.lint.static.imports import ModuleLoader
from airflow_spof.lint.static.interpreter import Interpreter

_SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".venv", "venv", "node_modules", "site-packages", ".tox", "build"}
)


PARALLEL_THRESHOLD = 200
SIBLING_INLINED_CALLS = 50
"""Plain-function calls followed while reading a sibling module's constants."""
GC_THRESHOLD = 50_000


class LintInternalError(RuntimeError):
    """The linter itself failed on a file; the message names the file."""


@dataclass
class LintResult:
    """Findings, the facts behind them (for the inventory) and what was looked at."""

    findings: list[Finding] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    files: int = 0
    missing: list[str] = field(default_factory=list)
    report: str | None = None
    """With ``fmt``: the whole report, rendered per file by the workers (``findings`` empty)."""
    worst: int = 0
    """With ``fmt``: the highest severity found (0: none)."""


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
    """Module-level values of a sibling file (its DAGs are reported when it is linted itself).
    Only its constants are wanted, so it follows few of its own calls: a library in the tree
    is read module by module, each as its imports reach it."""
    interpreter = Interpreter(path, loader, max_inlined=SIBLING_INLINED_CALLS)
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
    interpreter = Interpreter(path, loader)
    try:
        module = interpreter.run(tree)
    except RecursionError as exc:
        raise LintInternalError(f"{path}: file too deeply nested to analyse") from exc
    except Exception as exc:
        raise LintInternalError(f"{path}: {type(exc).__name__}: {exc}") from exc
    interpreter.frames[0].clear()  # module scope <-> its functions: a cycle only GC could free
    findings = check_module(module, cfg)
    suppressions = noqa.parse(source)
    if suppressions:
        findings = [f for f in findings if not noqa.suppressed(f, suppressions)]
    # Sorted here, by the worker that found them: the run's final (stable) sort then only
    # merges presorted runs in the parent, and its result is the same.
    return sorted(_dedupe(findings), key=Finding.sort_key), module


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, int, int, str], Finding] = {}
    for finding in findings:
        seen.setdefault(
            (finding.code, finding.where.line, finding.where.col, finding.message), finding
        )
    return list(seen.values())


def lint_file(
    path: Path, cfg: LintConfig, loader: ModuleLoader
) -> tuple[list[Finding], Module | None]:
    try:
        source = path.read_bytes().decode("utf-8")  # no text-mode layer: one read, one decode
    except UnicodeDecodeError as exc:
        return [syntax_error(str(path), 1, 1, f"not UTF-8 text ({exc.reason})", cfg)], None
    return lint_source(source, str(path), cfg, loader)


def _release(module: Module) -> None:
    """Break the DAG <-> task cycles (tasks hold XComArg refs to their DAG) of a module
    nobody keeps, so reference counting frees it at once instead of the cyclic GC."""
    for dag in module.dags:
        dag.tasks.clear()


Outcome = tuple[list[Finding] | Block | None, Module | None]
"""A file's findings, or its rendered block (None: nothing found), and its facts if kept."""


def lint_files(
    files: list[Path],
    cfg: LintConfig,
    loader: ModuleLoader,
    keep_modules: bool,
    fmt: BlockFormat | None = None,
) -> list[Outcome]:
    done: list[Outcome] = []
    for path in files:
        findings, module = lint_file(path, cfg, loader)
        if module is not None and not keep_modules:
            _release(module)
            module = None
        if fmt is None:
            done.append((findings, module))
        elif findings:
            done.append((render_block(str(path), findings, fmt) or findings, module))
        else:
            done.append((None, module))
    return done


def _lint_parallel(
    files: list[Path],
    cfg: LintConfig,
    roots: list[Path],
    keep_modules: bool,
    jobs: int,
    fmt: BlockFormat | None,
) -> list[Outcome]:
    """Split over forked processes (see ``parallel``); imported only when used."""
    from airflow_spof.lint.parallel import WorkerFailed, run_forked

    loader = ModuleLoader(roots, build_scope)  # each process fills its own copy's cache

    def work(chunk: list[Path]) -> list[Outcome]:
        return lint_files(chunk, cfg, loader, keep_modules, fmt)

    try:
        return run_forked(files, jobs, work)
    except WorkerFailed as exc:
        raise LintInternalError(str(exc)) from exc


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Linting allocates millions of short-lived objects (AST nodes, values, facts) and makes
    few reference cycles; the default collector thresholds made it ~25% slower."""
    saved = gc.get_threshold()
    gc.set_threshold(max(saved[0], GC_THRESHOLD), *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def default_jobs(file_count: int) -> int:
    """Processes worth starting: one per core for large trees, none for a pre-commit batch."""
    if file_count < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def lint_paths(
    paths: Iterable[str],
    cfg: LintConfig,
    jobs: int | None = None,
    keep_modules: bool = True,
    fmt: BlockFormat | None = None,
) -> LintResult:
    """The whole run: every file, findings sorted by location.

    Large trees are split over ``jobs`` forked processes; ``keep_modules=False``
    skips sending extracted facts back when only findings are needed. With ``fmt``
    the report itself is rendered (per file, by the worker that linted it) into
    ``report`` and ``worst``, and ``findings`` stays empty.
    """
    paths = list(paths)
    files, missing = discover(paths, cfg)
    roots = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths if Path(p).exists()]
    roots = roots or [Path.cwd()]
    result = LintResult(files=len(files), missing=missing)
    jobs = default_jobs(len(files)) if jobs is None else max(1, jobs)
    with _rare_collections():
        if jobs > 1 and len(files) > 1:
            outcomes = _lint_parallel(files, cfg, roots, keep_modules, jobs, fmt)
        else:
            outcomes = lint_files(files, cfg, ModuleLoader(roots, build_scope), keep_modules, fmt)
    for _, module in outcomes:
        if module is not None and keep_modules:
            result.modules.append(module)
    if fmt is not None:
        result.report, result.worst = _report(files, [o for o, _ in outcomes], cfg, roots, fmt)
        return result
    for findings, _ in outcomes:
        if isinstance(findings, list):  # always, without fmt
            result.findings.extend(findings)
    result.findings.sort(key=Finding.sort_key)
    return result


def _report(
    files: list[Path],
    parts: list[list[Finding] | Block | None],
    cfg: LintConfig,
    roots: list[Path],
    fmt: BlockFormat,
) -> tuple[str, int]:
    """Join the per-file blocks; a file whose block would interleave with findings from
    another file (a sibling module's replica set) is linted again here, as findings."""
    present = [part for part in parts if part is not None]
    by_path = {str(path): index for index, path in enumerate(files)}
    loader: ModuleLoader | None = None
    while True:
        try:
            return assemble(present, fmt)
        except Collision as collision:
            loader = loader or ModuleLoader(roots, build_scope)
            path = files[by_path[collision.args[0]]]
            findings, _ = lint_file(path, cfg, loader)
            present = [
                findings if isinstance(p, tuple) and p[0] == collision.args[0] else p
                for p in present
            ]
