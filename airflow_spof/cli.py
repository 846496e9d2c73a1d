"""``airflow-spof``: one console script, one subcommand per tool.

Adding a subcommand is one line in ``SUBCOMMANDS``: a module exposing
``add_parser(subparsers)`` that sets ``func`` (taking the parsed args, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from airflow_spof.commands.common import EXIT_CODES

SUBCOMMANDS: tuple[str, ...] = (
    "airflow_spof.commands.status",
    "airflow_spof.commands.repair",
    "airflow_spof.commands.drill",
    "airflow_spof.lint.cli",
    "airflow_spof.commands.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-spof",
        description="Remove single points of failure from Airflow pipelines.",
        epilog=EXIT_CODES,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
