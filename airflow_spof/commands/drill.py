"""``airflow-spof drill DAG_ID --fault SELECTOR=KIND ...``: prove a DAG survives and heals."""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from airflow_spof.commands.common import (
    DAGS_FOLDER_OPTION,
    EXIT_FAILED,
    EXIT_OK,
    JSON_OPTION,
    Option,
    UsageError,
    add_subcommand,
    guarded,
)

OPTIONS: list[Option] = [
    (("dag_id",), {"metavar": "DAG_ID", "help": "the DAG to run under faults"}),
    (
        ("--fault",),
        {
            "action": "append",
            "default": [],
            "metavar": "SELECTOR=KIND",
            "help": "repeatable. SELECTOR: an endpoint name, conn:<conn_id> or region:<region>; "
            "KIND: down, hang, slow:<N>s, error or corrupt (e.g. region:us-east-1=down)",
        },
    ),
    (
        ("--example-env",),
        {
            "action": "store_true",
            "help": "start the example environment (two moto S3 regions, an NFS directory, "
            "SQLite warehouses) and a private Airflow (temporary AIRFLOW_HOME, SQLite) for the "
            "example DAGs; without it the drill uses the Airflow and connections already "
            "configured",
        },
    ),
    DAGS_FOLDER_OPTION,
    (("--log",), {"help": "file for Airflow's own output during the run (default: a temp file)"}),
    JSON_OPTION,
]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return add_subcommand(
        subparsers,
        "drill",
        "run a DAG under injected faults; pass if it succeeds and its replicas converge",
        "Run DAG_ID once with dag.test() under the given faults, then lift them, repair "
        "every replica set the DAG uses and compare the replicas' fingerprints. The drill "
        "passes when the run succeeded and every replica set converged; it reports the "
        "time from the start of the outage to identical replicas.",
        OPTIONS,
        guarded("drill", run),
    )


def run(args: argparse.Namespace) -> int:
    from airflow_spof.chaos import parse_faults

    faults = parse_faults(args.fault)
    if not faults:
        raise UsageError("give at least one --fault SELECTOR=KIND, e.g. region:us-east-1=down")
    log = Path(args.log) if args.log else Path(tempfile.mkstemp(prefix="spof-drill-")[1])
    with contextlib.ExitStack() as stack:
        from airflow_spof.commands.capture import terminal_only

        stack.enter_context(terminal_only(log))
        folder = _prepare(args, stack)
        report = _drill(folder, args.dag_id, faults)
    data = report.to_dict()
    data["log"] = str(log)
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        render(data)
    return EXIT_OK if report.passed else EXIT_FAILED


def _prepare(args: argparse.Namespace, stack: contextlib.ExitStack) -> Path:
    """The DAGs folder, after starting the private Airflow and example world if asked."""
    from airflow_spof.commands.dagfolder import resolve_dags_folder

    folder = resolve_dags_folder(args.dags_folder, private_airflow=args.example_env)
    if not args.example_env:
        return folder
    from airflow_spof.testing.sandbox import AirflowSandbox, SandboxError, start_example_world

    sandbox = AirflowSandbox(folder)
    try:
        sandbox.activate()
        stack.callback(sandbox.remove)
        world = start_example_world(sandbox)
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    stack.callback(world.stop)
    return folder


def _drill(folder: Path, dag_id: str, faults: Any) -> Any:
    from airflow_spof.commands.dagfolder import (
        DagFolder,
        check_connections,
        endpoints_of,
        replica_sets_of,
    )
    from airflow_spof.testing.drill import run_drill

    dags = DagFolder.load(folder)
    dag = dags.dag(dag_id)
    sets = list(replica_sets_of(dag).values())
    endpoints = endpoints_of(sets)
    for fault in faults:
        if not any(fault.matches(ep) for ep in endpoints):
            regions = sorted({ep.region for ep in endpoints if ep.region})
            raise UsageError(
                f"fault {fault} matches no endpoint of DAG {dag_id!r}; its endpoints: "
                f"{', '.join(ep.name for ep in endpoints) or 'none'}; connections: "
                f"{', '.join(sorted({f'conn:{ep.conn_id}' for ep in endpoints if ep.conn_id}))}; "
                f"regions: {', '.join(f'region:{r}' for r in regions) or 'none'}"
            )
    check_connections(endpoints)
    _check_database()
    return run_drill(dag, faults, sets)


def _check_database() -> None:
    import sqlalchemy as sa
    from airflow.utils.session import create_session

    try:
        with create_session() as session:
            initialised = sa.inspect(session.get_bind()).has_table("dag_run")
    except sa.exc.SQLAlchemyError as exc:
        raise UsageError(f"cannot reach the Airflow metadata database: {exc}") from None
    if not initialised:
        raise UsageError(
            "the Airflow metadata database is not initialised: run `airflow db migrate` "
            "(or use --example-env for a private one)"
        )


def render(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    verdict = "[bold green]PASSED[/]" if data["passed"] else "[bold red]FAILED[/]"
    console.print(
        f"Drill of {data['dag_id']} under {', '.join(data['faults'])}: {verdict} "
        f"(run {data['run_state']} in {data['run_seconds']:.1f}s, "
        f"repair {data['repair_seconds']:.1f}s)"
    )
    if data["time_to_recover_s"] is not None:
        console.print(
            f"time to recover: {data['time_to_recover_s']:.1f}s (outage to identical replicas)"
        )
    table = Table("replica set", "replica", "fingerprint", "items", "converged")
    for rs in data["replica_sets"]:
        for i, (endpoint, fp) in enumerate(rs["fingerprints"].items()):
            table.add_row(
                rs["replica_set"] if i == 0 else "",
                endpoint,
                fp,
                str(rs["items"].get(endpoint, "")),
                ("[green]yes[/]" if rs["converged"] else "[red]no[/]") if i == 0 else "",
            )
    console.print(table)
    for reason in data["reasons"]:
        console.print(f"[red]✗[/] {reason}")
    console.print(f"Airflow log: {data['log']}")
