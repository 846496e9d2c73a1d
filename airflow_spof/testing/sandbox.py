"""A private Airflow for one process: its own home, SQLite metadata DB and DAGs folder.

``airflow-spof demo`` and ``drill --example-env`` run real DAGs with
``dag.test()`` without touching the user's Airflow. Airflow reads its
settings once, at import, so :meth:`AirflowSandbox.activate` must run
before anything imports ``airflow``; it refuses (clearly) otherwise.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SandboxError(RuntimeError):
    """The sandbox cannot be set up in this process."""


@dataclass
class AirflowSandbox:
    """:param dags_folder: the DAGs ``dag.test()`` may run; :param settings: extra
    environment (``AIRFLOW__SPOF__*`` and the like) applied with the sandbox."""

    dags_folder: Path
    settings: Mapping[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-airflow-")))
    _saved: dict[str, str | None] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.root / "airflow.log"

    @property
    def state_store_url(self) -> str:
        return f"sqlite:///{self.root / 'spof_state.db'}"

    def environment(self) -> dict[str, str]:
        return {
            "AIRFLOW_HOME": str(self.root),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.root / 'airflow.db'}",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": (
                '[{"name": "dags-folder", "classpath": '
                '"airflow.dag_processing.bundles.local.LocalDagBundle", '
                f'"kwargs": {{"path": "{self.dags_folder}"}}}}]'
            ),
            "AIRFLOW__SPOF__STATE_STORE_URL": self.state_store_url,
            # Faults come from the command line only, never from a leftover Variable.
            "AIRFLOW__SPOF__CHAOS_VARIABLE": "false",
            **self.settings,
        }

    def activate(self) -> AirflowSandbox:
        """Point this process's Airflow at the sandbox (before ``airflow`` is imported)."""
        if "airflow.configuration" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(
            self.root
        ):
            raise SandboxError(
                "Airflow is already imported and configured in this process; run the "
                "command as `airflow-spof ...` (a fresh process) instead"
            )
        self.dags_folder = self.dags_folder.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        for key, value in self.environment().items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        os.environ.pop("AIRFLOW_SPOF_FAULTS", None)
        # As in Airflow's own DAGs folder: modules beside the DAGs are importable.
        if str(self.dags_folder) not in sys.path:
            sys.path.append(str(self.dags_folder))
        return self

    def init_db(self) -> None:
        """Create the metadata tables (SQLite: a few seconds)."""
        from airflow.utils import db

        db.initdb()

    def remove(self) -> None:
        """Restore the environment and delete the sandbox's files."""
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.root, ignore_errors=True)


def start_example_world(sandbox: AirflowSandbox) -> Any:
    """Start the :class:`ExampleEnvironment` while the metadata DB is created: both take seconds.

    The servers start on this thread: they are bound to the thread that
    started them (parent-death signal) and must outlive the helper thread.
    """
    from airflow_spof.testing.environment import ExampleEnvironment

    env = ExampleEnvironment(root=sandbox.root / "env")
    failure: list[BaseException] = []

    def init_db() -> None:
        try:
            sandbox.init_db()
        except BaseException as exc:
            failure.append(exc)

    creator = threading.Thread(target=init_db, name="spof-airflow-initdb")
    creator.start()
    try:
        env.start()
    except BaseException as exc:
        creator.join()
        raise SandboxError(f"the example environment did not start: {exc}") from exc
    creator.join()
    if failure:
        env.stop()
        raise SandboxError(f"the Airflow metadata database could not be created: {failure[0]}")
    return env
