"""``airflow spof lint``: the lint command of the ``airflow spof`` group (see airflow_cli)."""

from __future__ import annotations

import argparse
import sys

from airflow.cli.cli_config import ActionCommand, Arg, lazy_load_command

from airflow_spof.lint.cli import OPTIONS


def lint_action_command() -> ActionCommand:
    """The ``lint`` subcommand, for a provider that builds its own ``spof`` group."""
    return ActionCommand(
        name="lint",
        help="Find single points of failure in DAG files (static; never runs DAG code)",
        func=lazy_load_command("airflow_spof.lint.airflow_cli.lint_command"),
        args=[Arg(flags, **kwargs) for flags, kwargs in OPTIONS],
    )


def lint_command(args: argparse.Namespace) -> None:
    """Airflow ignores a command's return value, so the exit code is raised here."""
    from airflow_spof.lint.cli import run

    code = run(args)
    if code:
        sys.exit(code)
