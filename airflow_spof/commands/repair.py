"""``airflow-spof repair NAME``: converge a replica set (or every set a DAG uses) now."""

from __future__ import annotations

import argparse
import json
from typing import Any

from airflow_spof.commands.common import (
    DAGS_FOLDER_OPTION,
    EXIT_FAILED,
    EXIT_OK,
    JSON_OPTION,
    Option,
    add_subcommand,
    guarded,
)

OPTIONS: list[Option] = [
    (("target",), {"metavar": "REPLICA_SET_OR_DAG", "help": "replica set name or dag_id"}),
    (("--prefix",), {"default": "", "help": "only objects under this key prefix"}),
    DAGS_FOLDER_OPTION,
    JSON_OPTION,
]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return add_subcommand(
        subparsers,
        "repair",
        "drain hints and run anti-entropy on a replica set or a DAG's replica sets",
        "Bring every reachable replica up to date: replay the hints left by degraded "
        "writes, then copy whatever a replica misses from the agreed version. Replica "
        "sets are found in the DAGs folder (operator arguments and module-level names).",
        OPTIONS,
        guarded("repair", run),
    )


def run(args: argparse.Namespace) -> int:
    from airflow_spof.commands.dagfolder import (
        DagFolder,
        check_connections,
        endpoints_of,
        resolve_dags_folder,
    )

    folder = DagFolder.load(resolve_dags_folder(args.dags_folder, private_airflow=False))
    kind, sets = folder.resolve(args.target)
    check_connections(endpoints_of(sets))
    reports = [repair_set(replicas, args.prefix) for replicas in sets]
    if args.json:
        print(json.dumps({"target": args.target, "kind": kind, "replica_sets": reports}, indent=2))
    else:
        render(args.target, kind, reports)
    return EXIT_OK if all(r["converged"] for r in reports) else EXIT_FAILED


def repair_set(replicas: Any, prefix: str = "") -> dict[str, Any]:
    from airflow_spof.hooks.replicated import ReplicatedHook

    report = ReplicatedHook(replicas, event_context={}).repair(prefix=prefix)
    return report.to_dict()


def render(target: str, kind: str, reports: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "replica set",
        "checked",
        "repaired",
        "hints resolved",
        "unreachable",
        "converged",
        title=f"Repair of {kind} {target}",
    )
    for r in reports:
        table.add_row(
            r["replica_set"],
            str(r["checked"]),
            "\n".join(f"{x['item']} -> {x['endpoint']}" for x in r["repaired"]) or "none",
            str(r["hints_resolved"]),
            "\n".join(f"{ep}: {why}" for ep, why in r["unreachable"].items()) or "none",
            "[green]yes[/]" if r["converged"] else "[red]no[/]",
        )
    Console().print(table)
