"""``airflow-spof``: one console script, one subcommand per tool.

Adding a subcommand is one line in ``SUBCOMMANDS``: its name and a module exposing
``add_parser(subparsers)`` that sets ``func`` (taking the parsed args, returning an exit code).
Only the module of the subcommand asked for is imported: ``airflow-spof lint`` runs in
pre-commit on every commit, and the other tools' imports would be its start-up cost.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from airflow_spof.commands.common import EXIT_CODES

SUBCOMMANDS: dict[str, str] = {
    "status": "airflow_spof.commands.status",
    "repair": "airflow_spof.commands.repair",
    "drill": "airflow_spof.commands.drill",
    "lint": "airflow_spof.lint.cli",
    "demo": "airflow_spof.commands.demo",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser for every subcommand, or just for ``only`` when it names one."""
    parser = argparse.ArgumentParser(
        prog="airflow-spof",
        description="Remove single points of failure from Airflow pipelines.",
        epilog=EXIT_CODES,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [only] if only in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in names:
        importlib.import_module(SUBCOMMANDS[str(name)]).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)
    args = build_parser(only=command).parse_args(words)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
