"""``airflow spof ...``: the provider's ``cli`` entry (see get_provider_info()["cli"]).

``lint``, ``status`` and ``repair`` run inside the ``airflow`` process with its
configuration. ``drill`` and ``demo`` may need a private Airflow home, which
must be set before Airflow reads its settings, so they re-run as a fresh
``airflow-spof`` process with the same arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand, lazy_load_command

from airflow_spof.lint.airflow_cli import lint_action_command

COMMANDS = {
    "status": "show circuit breakers, endpoint health and pending repair hints",
    "repair": "drain hints and run anti-entropy on a replica set or a DAG's replica sets",
    "drill": "run a DAG under injected faults; pass if it succeeds and its replicas converge",
    "demo": "run the whole product on this machine: outage, fallback, repair, lint",
}


def _action(name: str) -> ActionCommand:
    import importlib

    module = importlib.import_module(f"airflow_spof.commands.{name}")
    return ActionCommand(
        name=name,
        help=COMMANDS[name],
        func=lazy_load_command(f"airflow_spof.airflow_cli.{name}_command"),
        args=[Arg(flags, **kwargs) for flags, kwargs in module.OPTIONS],
    )


def get_cli_commands() -> list[Any]:
    """Function path for ``get_provider_info()["cli"]``: the ``airflow spof`` group."""
    return [
        GroupCommand(
            name="spof",
            help="airflow-spof: single-point-of-failure tooling",
            subcommands=[lint_action_command(), *(_action(name) for name in COMMANDS)],
        )
    ]


def _in_process(name: str, args: argparse.Namespace) -> None:
    """Airflow ignores a command's return value, so the exit code is raised here."""
    import importlib

    from airflow_spof.commands.common import guarded

    module = importlib.import_module(f"airflow_spof.commands.{name}")
    code = guarded(name, module.run)(args)
    if code:
        sys.exit(code)


def _fresh_process(name: str) -> None:
    """Replace this process with ``airflow-spof NAME <the same arguments>``."""
    position = sys.argv.index(name) if name in sys.argv else len(sys.argv)
    argv = [sys.executable, "-m", "airflow_spof.cli", name, *sys.argv[position + 1 :]]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


def status_command(args: argparse.Namespace) -> None:
    _in_process("status", args)


def repair_command(args: argparse.Namespace) -> None:
    _in_process("repair", args)


def drill_command(args: argparse.Namespace) -> None:
    _fresh_process("drill")


def demo_command(args: argparse.Namespace) -> None:
    _fresh_process("demo")
