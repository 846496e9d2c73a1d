"""A real multi-worker Airflow (CeleryExecutor) on loopback, for tests that need two workers.

PostgreSQL holds the metadata database and the spof state store, Redis is the
broker, and every component (api-server, scheduler, dag-processor, triggerer,
one ``airflow celery worker`` per :class:`WorkerSpec`) is a separate process
in its own session. A worker can be killed like a lost machine (SIGKILL to
every process of its session, task runners included) and started again.
The REST helpers are :class:`AirflowStandalone`'s; only the lifecycle differs.

    with CeleryStack(dags_folder, env={...}) as stack:
        stack.kill_worker("worker-b")
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from airflow_spof.testing.postgres import PostgresCluster
from airflow_spof.testing.redis_server import RedisServer
from airflow_spof.testing.standalone import AirflowStandalone, StandaloneError
from airflow_spof.testing.waiting import free_port, wait_until

WORKER_HOSTNAME_ENV = "SPOF_WORKER_HOSTNAME"
CELERY_HINT = "install the celery extra: `pip install -c constraints.txt -e '.[dev,celery]'`"
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")


def component_hostname() -> str:
    """Airflow's ``[core] hostname_callable``: each worker's own name, so a TI says who ran it."""
    return os.environ.get(WORKER_HOSTNAME_ENV) or socket.getfqdn()


@dataclass(frozen=True)
class WorkerSpec:
    """One Celery worker: its name (also the TI ``hostname``) and the queues it consumes."""

    name: str
    queues: tuple[str, ...]


DEFAULT_WORKERS = (
    WorkerSpec("worker-a", ("default", "qa")),
    WorkerSpec("worker-b", ("default", "qb")),
)


@dataclass
class Component:
    """One Airflow process; its pid is also its session id, so leftovers can be found."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def session(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def terminate(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def kill(self, timeout: float = 30.0) -> None:
        """SIGKILL every process of the session until none is left, then reap the leader."""
        process = self.process
        if process is None:
            return
        sid = process.pid

        def gone() -> bool:
            pids = session_pids([sid])
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.poll()  # reap the leader, or it lingers as a zombie in the session
            return not pids

        wait_until(gone, timeout=timeout, interval=0.05, what=f"{self.name} (session {sid}) gone")
        process.wait()

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"--- {self.name}: no log ---"
        return "\n".join([f"--- {self.name} ({self.log_path}) ---", *text[-lines:]])


def session_pids(sessions: Sequence[int]) -> list[int]:
    """Live pids in any of ``sessions`` (pgrep -s), zombies included until reaped."""
    if not sessions:
        return []
    found = subprocess.run(
        ["pgrep", "-s", ",".join(str(s) for s in sessions)], capture_output=True, text=True
    )
    return [int(p) for p in found.stdout.split()]


class CeleryStack(AirflowStandalone):
    """Start, drive through the REST API, break and stop a CeleryExecutor deployment.

    :param dags_folder: the only DAGs the deployment sees.
    :param env: extra environment for every component (connections, ``AIRFLOW__SPOF__*``).
    :param workers: the Celery workers to run; names must be unique.
    """

    def __init__(
        self,
        dags_folder: str | Path,
        env: Mapping[str, str] | None = None,
        *,
        workers: Sequence[WorkerSpec] = DEFAULT_WORKERS,
        home: str | Path | None = None,
        startup_timeout: float = 480.0,
    ) -> None:
        super().__init__(dags_folder, env, home=home, startup_timeout=startup_timeout)
        self.workers = {w.name: w for w in workers}
        if len(self.workers) != len(workers):
            raise ValueError(f"worker names must be unique: {[w.name for w in workers]}")
        self.postgres = PostgresCluster()
        self.redis = RedisServer()
        self.components: dict[str, Component] = {}
        self._log_ports = {name: free_port() for name in self.workers}
        self._secret = secrets.token_urlsafe(32)
        self.timings: dict[str, float] = {}

    @property
    def metadata_url(self) -> str:
        return self.postgres.url.rsplit("/", 1)[0] + "/airflow"

    @property
    def state_store_url(self) -> str:
        """Where every worker keeps breakers and health: one PostgreSQL database for all."""
        return self.postgres.url.rsplit("/", 1)[0] + "/spof_state"

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
                # psycopg 3 does async too; Airflow's default guess (asyncpg) is not installed.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.metadata_url,
                "AIRFLOW__CELERY__BROKER_URL": self.redis.url(0),
                "AIRFLOW__CELERY__RESULT_BACKEND": self.redis.url(1),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.component_hostname",
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret,
                "AIRFLOW__API__SECRET_KEY": self._secret,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__SPOF__STATE_STORE_URL": self.state_store_url,
            }
        )
        env.update(self.extra_env)
        return env

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> CeleryStack:
        """PostgreSQL, Redis, migrations, every component; wait until all are ready."""
        if self.components:
            return self
        _require_celery()
        began = time.monotonic()
        (self.home / "stack").mkdir(parents=True, exist_ok=True)
        with self._stopped_on_failure("Celery stack"):
            self.postgres.init().start()
            _create_databases(self.postgres.url, ("airflow", "spof_state"))
            self.redis.start()
            self._migrate()
            for service in SERVICES:
                self._start_component(service, [service])
            for name in self.workers:
                self.start_worker(name, wait=False)
            self._await_ready(1.0, f"Celery stack on {self.base_url} (logs: {self.home / 'stack'})")
        self.timings["startup_s"] = time.monotonic() - began
        return self

    def _migrate(self) -> None:
        began = time.monotonic()
        log = self.home / "stack" / "db-migrate.log"
        with open(log, "ab") as out:
            done = subprocess.run(
                [_airflow(), "db", "migrate"],
                cwd=self.home,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=self.startup_timeout,
            )
        if done.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise StandaloneError(f"airflow db migrate failed ({done.returncode}):\n{tail}")
        self.timings["migrate_s"] = time.monotonic() - began

    def _start_component(
        self, name: str, args: list[str], env: Mapping[str, str] | None = None
    ) -> Component:
        component = Component(
            name=name,
            command=[_airflow(), *args],
            env={**self.environment(), **(env or {})},
            log_path=self.home / "stack" / f"{name}.log",
        )
        component.start(self.home)
        self.components[name] = component
        return component

    def start_worker(self, name: str, wait: bool = True, timeout: float = 240.0) -> Component:
        """(Re)start a worker; with ``wait``, return once it consumes its queues."""
        spec = self.workers[name]
        component = self._start_component(
            name,
            ["celery", "worker", "-q", ",".join(spec.queues), "--concurrency", "1",
             "-H", name, "--without-mingle", "--without-gossip"],
            env={
                WORKER_HOSTNAME_ENV: name,
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._log_ports[name]),
            },
        )  # fmt: skip
        if wait:
            wait_until(
                lambda: self._worker_ready(name),
                timeout=timeout,
                interval=0.5,
                what=f"{name} ready (log: {component.log_path})",
            )
        return component

    def _worker_ready(self, name: str) -> bool:
        component = self.components[name]
        if not component.alive:
            raise StandaloneError(f"{name} exited\n{component.log_tail()}")
        try:
            return f"@{name} ready." in component.log_path.read_text(errors="replace")
        except OSError:
            return False

    def kill_worker(self, name: str) -> float:
        """Lose a worker like a machine: SIGKILL its whole session; return seconds it took."""
        began = time.monotonic()
        self.components[name].kill()
        return time.monotonic() - began

    def _healthy(self) -> bool:
        for component in self.components.values():
            if not component.alive:
                raise StandaloneError(f"{component.name} exited\n{component.log_tail()}")
        return all(self._worker_ready(n) for n in self.workers) and super()._healthy()

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM every component, SIGKILL whatever is left of their sessions, drop the servers."""
        components = list(self.components.values())
        for component in components:
            component.terminate()
        sessions = [c.session for c in components if c.session is not None]
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: not session_pids(sessions), timeout=grace, interval=0.2)
        for component in components:
            component.kill()
        self.redis.stop()
        self.postgres.destroy()
        super().stop()

    def leftovers(self) -> list[int]:
        """Pids still alive in any component's session (empty after a clean ``stop()``)."""
        return session_pids([c.session for c in self.components.values() if c.session])

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(c.log_tail(lines) for c in self.components.values()) or "(no logs yet)"


def _airflow() -> str:
    beside = Path(sys.executable).with_name("airflow")
    return str(beside) if beside.exists() else "airflow"


def _require_celery() -> None:
    """A missing executor is an error that says how to install it, not a skip."""
    try:
        version = metadata.version("celery")
        metadata.version("apache-airflow-providers-celery")
    except metadata.PackageNotFoundError as exc:
        raise StandaloneError(f"{exc.name} is not installed: {CELERY_HINT}") from None
    major, minor = (int(p) for p in version.split(".")[:2])
    if (major, minor) >= (5, 7):
        raise StandaloneError(f"celery {version} breaks the Airflow Celery executor; {CELERY_HINT}")


def _create_databases(server_url: str, names: Sequence[str]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
