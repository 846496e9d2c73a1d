"""``airflow-spof demo``: run the four-step scenario with visible progress and write the report."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from airflow_spof.commands.common import (
    DAGS_FOLDER_OPTION,
    EXIT_FAILED,
    EXIT_OK,
    Option,
    UsageError,
    add_subcommand,
    guarded,
)

DEFAULT_REPORT_DIR = Path(tempfile.gettempdir()) / "airflow-spof-demo"

OPTIONS: list[Option] = [
    DAGS_FOLDER_OPTION,
    (
        ("--report-dir",),
        {"default": str(DEFAULT_REPORT_DIR), "help": "where report.html and report.json go"},
    ),
    (
        ("--keep",),
        {
            "action": "store_true",
            "help": "keep the environment's files (AIRFLOW_HOME, metadata and state DBs, "
            "warehouses, NFS directory) and print where they are",
        },
    ),
    (
        ("--ui",),
        {
            "action": "store_true",
            "help": "afterwards start Airflow standalone on loopback with the plugin, print "
            "the URL and login, and keep it running until Ctrl-C",
        },
    ),
]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return add_subcommand(
        subparsers,
        "demo",
        "run the whole product on this machine: outage, fallback, repair, lint",
        "Start a private Airflow (temporary AIRFLOW_HOME, SQLite), two S3 regions (moto "
        "server processes), an NFS directory and SQLite warehouses; run the example DAGs "
        "from ./dags through a healthy day, a killed region and its repair; lint dags/ and "
        "a fragile sample; print a summary and write an HTML report with the lineage.",
        OPTIONS,
        guarded("demo", run),
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from airflow_spof.commands.capture import terminal_only
    from airflow_spof.commands.dagfolder import resolve_dags_folder
    from airflow_spof.demo import html, scenario
    from airflow_spof.demo.report import DemoReport, summary_table
    from airflow_spof.testing.sandbox import AirflowSandbox, SandboxError

    folder = resolve_dags_folder(args.dags_folder, private_airflow=True)
    report_dir = Path(args.report_dir).resolve()
    sandbox = AirflowSandbox(folder, settings=scenario.SETTINGS)
    try:
        sandbox.activate()
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    started = time.monotonic()
    report = DemoReport(steps=[], log=str(report_dir / "airflow.log"))
    with contextlib.ExitStack() as stack:
        if not args.keep:
            stack.callback(sandbox.remove)
        terminal = stack.enter_context(terminal_only(Path(report.log)))
        console = Console(file=terminal, highlight=False, width=_width())
        env = _start(sandbox, console, stack, keep=args.keep)
        dags = _load(folder, console)
        steps = (
            ("Step 1: a healthy run", lambda say: scenario.healthy_run(env, dags, say)),
            (
                f"Step 2: {scenario.PRIMARY} goes down",
                lambda say: scenario.region_down(env, dags, say),
            ),
            (
                f"Step 3: {scenario.PRIMARY} returns",
                lambda say: scenario.region_returns(env, dags, say),
            ),
            (
                "Step 4: lint dags/ and a fragile DAG",
                lambda say: scenario.lint_step(folder, say, console.out),
            ),
        )
        for title, step in steps:
            console.rule(f"[bold]{title}")
            with console.status(f"{title} …"):
                result = step(lambda text: console.print(f"  • {text}"))
            report.steps.append(result)
            mark = "[green]✔[/]" if result.ok else "[red]✗[/]"
            console.print(f"  {mark} done in {result.seconds:.1f}s")
        report.seconds = time.monotonic() - started
        report.kept = str(sandbox.root) if args.keep else None
        report.html = str(report_dir / "report.html")
        html.write(report, Path(report.html))
        (report_dir / "report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
        console.rule("[bold]Report")
        console.print(summary_table(report))
        verdict = "[green]all four steps passed[/]" if report.ok else "[red]a step failed[/]"
        console.print(f"{verdict} in {report.seconds:.1f}s")
        console.print(f"HTML report (lineage of every run): [bold]{report.html}[/]")
        console.print(f"JSON report: {report_dir / 'report.json'}; Airflow log: {report.log}")
        if args.keep:
            console.print(
                f"kept the environment in [bold]{sandbox.root}[/] (AIRFLOW_HOME, airflow.db, "
                f"spof_state.db, env/ with warehouses and NFS); the moto S3 regions were "
                "in-memory processes and have stopped"
            )
        if args.ui:
            _serve_ui(folder, sandbox, env, console)
    return EXIT_OK if report.ok else EXIT_FAILED


def _start(sandbox: Any, console: Any, stack: contextlib.ExitStack, keep: bool) -> Any:
    from airflow_spof.testing.sandbox import SandboxError, start_example_world

    with console.status("starting two S3 regions, NFS dir, warehouses and Airflow's DB …"):
        started = time.monotonic()
        try:
            env = start_example_world(sandbox)
        except SandboxError as exc:
            raise UsageError(str(exc)) from None
    if keep:
        stack.callback(_stop_regions, env)
    else:
        stack.callback(env.stop)
    console.print(
        f"environment up in {time.monotonic() - started:.1f}s: AIRFLOW_HOME={sandbox.root}, "
        + ", ".join(f"{name} on {r.endpoint_url}" for name, r in env.regions.items())
    )
    return env


def _width() -> int:
    """The terminal's width, but wide enough for the summary table when piped."""
    return max(shutil.get_terminal_size((120, 40)).columns, 120)


def _stop_regions(env: Any) -> None:
    for region in env.regions.values():
        region.stop()


def _load(folder: Path, console: Any) -> Any:
    from airflow_spof.commands.dagfolder import DagFolder

    with console.status(f"parsing the example DAGs in {folder} …"):
        dags = DagFolder.load(folder)
    console.print(f"loaded {len(dags.dag_ids)} DAGs: {', '.join(dags.dag_ids)}")
    return dags


def _serve_ui(folder: Path, sandbox: Any, env: Any, console: Any) -> None:
    """Airflow standalone sharing the demo's state store, until Ctrl-C."""
    from airflow_spof.testing.standalone import AirflowStandalone

    settings = {**env.env, **sandbox.settings}
    settings["AIRFLOW__SPOF__STATE_STORE_URL"] = sandbox.state_store_url
    with console.status("starting Airflow standalone on loopback (about 15-30 s) …"):
        stack = AirflowStandalone(folder, env=settings).start()
    try:
        console.print(
            f"Airflow UI: [bold]{stack.base_url}[/]  login: admin / {stack.admin_password()}  "
            f"(Resilience page under Browse); Ctrl-C stops it"
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        stack.stop()
