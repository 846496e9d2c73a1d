"""Find DAGs and the replica sets they use, from a DAGs folder, for repair and drills.

A replica set is found where a user would put it: as an operator argument
(``sources``, ``destination``, ``replicas``, ...) or as a module-level name
in the DAG's file (``from replica_sets import CURATED`` in a ``@task`` DAG).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_spof.commands.common import UsageError
from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.testing.drill import endpoints_of, replica_sets_of

__all__ = ["DagFolder", "check_connections", "endpoints_of", "replica_sets_of"]


def resolve_dags_folder(explicit: str | None, private_airflow: bool) -> Path:
    """The folder named on the command line, else ./dags (private Airflow) or Airflow's own."""
    if explicit:
        folder = Path(explicit)
    elif private_airflow:
        folder = Path("dags")
    elif os.environ.get("AIRFLOW__CORE__DAGS_FOLDER"):
        folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    else:
        from airflow.configuration import conf

        folder = Path(conf.get("core", "dags_folder"))
    if not folder.is_dir():
        raise UsageError(f"DAGs folder {str(folder)!r} does not exist: pass --dags-folder PATH")
    return folder.resolve()


@dataclass
class DagFolder:
    """The DAGs of one folder, parsed like Airflow's DAG processor does."""

    path: Path
    bag: Any

    @classmethod
    def load(cls, path: Path) -> DagFolder:
        from airflow.dag_processing.dagbag import DagBag

        if str(path) not in sys.path:
            sys.path.append(str(path))
        bag = DagBag(dag_folder=str(path))
        if bag.import_errors:
            problems = "; ".join(
                f"{file}: {err.strip().splitlines()[-1]}"
                for file, err in sorted(bag.import_errors.items())
            )
            raise UsageError(f"DAGs in {path} failed to import: {problems}")
        return cls(path, bag)

    @property
    def dag_ids(self) -> list[str]:
        return sorted(self.bag.dag_ids)

    def dag(self, dag_id: str) -> Any:
        dag = self.bag.get_dag(dag_id) if dag_id in self.bag.dag_ids else None
        if dag is None:
            raise UsageError(
                f"no DAG {dag_id!r} in {self.path}; DAGs there: {', '.join(self.dag_ids) or 'none'}"
            )
        return dag

    def replica_sets(self) -> dict[str, Replicas]:
        found: dict[str, Replicas] = {}
        for dag_id in self.dag_ids:
            found.update(replica_sets_of(self.bag.get_dag(dag_id)))
        return found

    def replica_set(self, name: str) -> Replicas:
        sets = self.replica_sets()
        if name not in sets:
            known = ", ".join(sorted(sets)) or "none"
            raise UsageError(f"no replica set {name!r} in {self.path}; found: {known}")
        return sets[name]

    def resolve(self, name: str) -> tuple[str, list[Replicas]]:
        """A replica set by name, or every set a DAG uses: ("replica set"|"DAG", sets)."""
        sets = self.replica_sets()
        if name in sets:
            return "replica set", [sets[name]]
        if name in self.bag.dag_ids:
            used = list(replica_sets_of(self.dag(name)).values())
            if not used:
                raise UsageError(f"DAG {name!r} uses no replica set: nothing to repair")
            return "DAG", used
        raise UsageError(
            f"{name!r} is neither a replica set nor a DAG in {self.path}; "
            f"replica sets: {', '.join(sorted(sets)) or 'none'}; "
            f"DAGs: {', '.join(self.dag_ids) or 'none'}"
        )


def check_connections(endpoints: Iterable[Endpoint]) -> None:
    """Every endpoint's Airflow connection must be defined; say how to define a missing one."""
    from airflow.sdk import BaseHook

    missing: dict[str, list[str]] = {}
    for endpoint in endpoints:
        if not endpoint.conn_id:
            continue
        try:
            BaseHook.get_connection(endpoint.conn_id)
        except Exception:
            missing.setdefault(endpoint.conn_id, []).append(endpoint.name)
    if missing:
        detail = "; ".join(f"{conn} (used by {', '.join(eps)})" for conn, eps in missing.items())
        raise UsageError(
            f"connection(s) not defined: {detail}. Define them (AIRFLOW_CONN_<ID> or "
            "`airflow connections add`), or run the example DAGs with --example-env"
        )
