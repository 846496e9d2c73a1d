"""Exit codes, errors and option wiring shared by every subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EXIT_CODES = (
    "exit codes: 0 success (drill passed, replicas converged); "
    "1 the check failed (drill failed, replicas not converged); "
    "2 usage or configuration error (bad fault, unknown endpoint, DAG or replica set, "
    "missing connection or database)"
)

Option = tuple[tuple[str, ...], dict[str, Any]]


class UsageError(Exception):
    """Wrong arguments or missing configuration; the message says what to do (exit code 2)."""


def guarded(command: str, work: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Turn usage and fault-syntax errors into one clear line on stderr and exit code 2."""
    from airflow_spof.chaos import FaultSyntaxError

    def run(args: argparse.Namespace) -> int:
        try:
            return work(args)
        except (UsageError, FaultSyntaxError) as exc:
            print(f"airflow-spof {command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def add_subcommand(
    subparsers: argparse._SubParsersAction,
    name: str,
    help_text: str,
    description: str,
    options: list[Option],
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flags, kwargs in options:
        parser.add_argument(*flags, **kwargs)
    parser.set_defaults(func=run)
    return parser


DAGS_FOLDER_OPTION: Option = (
    ("--dags-folder",),
    {
        "help": "DAGs folder to load replica sets and DAGs from (default: Airflow's "
        "[core] dags_folder, or ./dags when the CLI configures a private Airflow)",
    },
)
JSON_OPTION: Option = (
    ("--json",),
    {"action": "store_true", "help": "print JSON instead of a table"},
)
