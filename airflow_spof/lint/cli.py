"""``airflow-spof lint``: argument parsing, output, exit codes (0 ok, 1 findings, 2 error)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from airflow_spof.lint.config import ConfigError, load_config
from airflow_spof.lint.engine import LintInternalError, lint_paths
from airflow_spof.lint.model import Severity
from airflow_spof.lint.reporters import REPORTERS, render_statistics
from airflow_spof.lint.reporters.blocks import block_formats

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("paths",), {"nargs": "*", "default": ["."], "help": "files or folders (default: .)"}),
    (
        ("--format", "--output-format"),
        {
            "dest": "format",
            "default": "text",
            "choices": sorted(REPORTERS),
            "help": "output format (default: text)",
        },
    ),
    (("-o", "--output"), {"help": "write the report to this file instead of stdout"}),
    (("--config",), {"help": "pyproject.toml to read [tool.airflow-spof.lint] from"}),
    (("--select",), {"help": "comma-separated codes or prefixes to enable"}),
    (("--ignore",), {"help": "comma-separated codes or prefixes to disable"}),
    (
        ("--fail-on",),
        {
            "choices": [s.label for s in Severity],
            "help": "lowest severity that makes the exit code 1 (default: warning)",
        },
    ),
    (("--statistics",), {"action": "store_true", "help": "show counts per rule"}),
    (
        ("--inventory",),
        {
            "action": "store_true",
            "help": "list connections, queues, pools, hosts and nodes with their "
            "dependants, most-depended-on first",
        },
    ),
    (("--inventory-format",), {"choices": ["table", "json"], "default": "table"}),
    (("--color",), {"choices": ["auto", "always", "never"], "default": "auto"}),
    (
        ("--jobs",),
        {
            "type": int,
            "default": None,
            "help": "processes to use (default: one per core for 200+ files)",
        },
    ),
]
"""Every lint option once, so argparse and the ``airflow spof lint`` command agree."""


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the lint options to a parser (shared by every entry point)."""
    for flags, kwargs in OPTIONS:
        parser.add_argument(*flags, **kwargs)
    parser.set_defaults(func=run)
    return parser


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``lint`` on another CLI's subcommands."""
    parser = subparsers.add_parser(
        "lint", help="find single points of failure in DAG files (static, never runs them)"
    )
    return configure(parser)


def _colour(mode: str, stream: TextIO) -> bool:
    if mode != "auto":
        return mode == "always"
    return stream.isatty() and "NO_COLOR" not in os.environ


def _codes(text: str | None) -> list[str] | None:
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else None


def run(args: argparse.Namespace) -> int:
    """Execute a parsed ``lint`` command; never raises (errors become exit code 2)."""
    try:
        return _run(args)
    except (ConfigError, LintInternalError, OSError) as exc:
        print(f"airflow-spof lint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception:
        import traceback

        print("airflow-spof lint: internal error:", file=sys.stderr)
        traceback.print_exc()
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    paths: list[str] = list(args.paths) or ["."]
    start = Path(paths[0]) if Path(paths[0]).exists() else Path.cwd()
    cfg = load_config(Path(args.config) if args.config else None, start=start)
    cfg.select = _codes(args.select) or cfg.select
    cfg.ignore = [*cfg.ignore, *(_codes(args.ignore) or [])]
    if args.fail_on:
        cfg.fail_on = Severity.parse(args.fail_on)
    # A file is not a terminal: the colour is known before it is opened.
    colour = args.color == "always" if args.output else _colour(args.color, sys.stdout)
    per_file = block_formats(colour).get(args.format)
    fmt = per_file() if per_file and not (args.statistics or args.inventory) else None
    result = lint_paths(paths, cfg, jobs=args.jobs, keep_modules=args.inventory, fmt=fmt)
    for missing in result.missing:
        print(
            f"airflow-spof lint: warning: {missing} does not exist; nothing to check there",
            file=sys.stderr,
        )
    out: TextIO = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.inventory:
            from airflow_spof.lint import inventory  # only for --inventory

            resources = inventory.build(result.modules, cfg)
            out.write(
                inventory.render_json(resources)
                if args.inventory_format == "json"
                else inventory.render_table(resources)
            )
            return EXIT_OK
        if result.report is not None:
            out.write(result.report)
            return EXIT_FINDINGS if result.worst >= cfg.fail_on else EXIT_OK
        out.write(REPORTERS[args.format](result.findings, colour))
        if args.statistics:
            (sys.stderr if args.format != "text" and not args.output else out).write(
                render_statistics(result.findings, colour)
            )
    finally:
        if args.output:
            out.close()
    failing = [f for f in result.findings if f.severity >= cfg.fail_on]
    return EXIT_FINDINGS if failing else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m airflow_spof.lint``."""
    parser = configure(
        argparse.ArgumentParser(
            prog="airflow-spof lint",
            description="Find single points of failure in Airflow DAG files without running them.",
        )
    )
    args = parser.parse_args(argv)
    return run(args)
