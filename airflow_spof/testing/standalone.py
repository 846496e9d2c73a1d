"""A real ``airflow standalone`` (API server, scheduler, dag-processor, triggerer) on loopback.

For tests and demos that need what ``dag.test()`` cannot give: a triggerer
running deferred tasks, real task logs and masking, the API and the UI.
Everything lives in a private ``AIRFLOW_HOME`` on free ports; ``stop()``
ends the whole process group, so no Airflow process outlives its owner.

    with AirflowStandalone(dags_folder, env={"AIRFLOW_CONN_X": "..."}) as af:
        af.wait_until_dag_parsed("my_dag")
        af.unpause("my_dag")
        run_id = af.trigger("my_dag")
        af.wait_for_run("my_dag", run_id, {"success"})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from airflow_spof.testing.waiting import free_port, wait_until

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


class StandaloneError(RuntimeError):
    """The stack did not start, or a call to it failed; the message carries the log tail."""


class AirflowStandalone:
    """Start, drive through the REST API, and stop one private Airflow deployment.

    :param dags_folder: the only DAGs the deployment sees.
    :param env: extra environment (``AIRFLOW_CONN_*``, ``AIRFLOW__SPOF__*``, ...);
        inherited ``AIRFLOW*`` variables are dropped so the caller's own
        deployment or test settings cannot leak in.
    :param home: ``AIRFLOW_HOME``; a temporary directory (removed on stop) if omitted.
    :param startup_timeout: seconds to wait for every component to report healthy.
    """

    def __init__(
        self,
        dags_folder: str | Path,
        env: Mapping[str, str] | None = None,
        *,
        home: str | Path | None = None,
        startup_timeout: float = 180.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.dags_folder = Path(dags_folder).resolve()
        self.extra_env = dict(env or {})
        self._own_home = home is None
        self.home = Path(home) if home else Path(tempfile.mkdtemp(prefix="spof-standalone-"))
        self.startup_timeout = startup_timeout
        self.host = host
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._token: str | None = None
        self._client = httpx.Client(base_url=self.base_url, timeout=30.0)

    # -- lifecycle -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "standalone.log"

    def environment(self) -> dict[str, str]:
        """The child's environment: ours on top of a copy without inherited Airflow settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        bin_dir = str(Path(sys.executable).parent)  # standalone starts its parts as `airflow ...`
        env.update(
            {
                "PATH": os.pathsep.join([bin_dir, env.get("PATH", "")]),
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": self.host,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "5",
                "AIRFLOW__SPOF__STATE_STORE_URL": f"sqlite:///{self.home / 'spof_state.db'}",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> AirflowStandalone:
        """Start every component and wait until each reports healthy and a token is issued."""
        if self.process is not None:
            return self
        self.home.mkdir(parents=True, exist_ok=True)
        airflow = Path(sys.executable).with_name("airflow")
        command = [str(airflow) if airflow.exists() else "airflow", "standalone"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.home,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._stopped_on_failure("airflow standalone"):
            self._await_ready(0.5, f"airflow standalone on {self.base_url} (log: {self.log_path})")
        return self

    @contextlib.contextmanager
    def _stopped_on_failure(self, what: str) -> Iterator[None]:
        """A start that fails stops whatever did start and says why, with the log's tail."""
        try:
            yield
        except BaseException as exc:
            tail = self.log_tail()
            self.stop()
            raise StandaloneError(f"{what} did not start: {exc}\n{tail}") from exc

    def _await_ready(self, interval: float, what: str) -> None:
        """Wait until every component reports healthy, then until a token is issued."""
        wait_until(self._healthy, timeout=self.startup_timeout, interval=interval, what=what)
        self.token()

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise StandaloneError(f"airflow standalone exited with {self.process.returncode}")
        response = self._client.get("/api/v2/monitor/health", timeout=5.0)
        if response.status_code != 200:
            return False
        report = response.json()
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((report.get(p) or {}).get("status") == "healthy" for p in parts)

    def stop(self, grace: float = 10.0) -> None:
        """Terminate the whole process group (SIGTERM, then SIGKILL after ``grace`` s)."""
        process, self.process = self.process, None
        if process is not None:
            _end_group(process, grace)
        self._client.close()
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> AirflowStandalone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no standalone log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- REST API --------------------------------------------------------------

    def admin_password(self) -> str:
        passwords = json.loads((self.home / PASSWORD_FILE).read_text())
        return str(passwords["admin"])

    def token(self, refresh: bool = False) -> str:
        """A JWT for the generated ``admin`` user (cached)."""
        if self._token is None or refresh:
            response = self._client.post(
                "/auth/token", json={"username": "admin", "password": self.admin_password()}
            )
            if response.status_code >= 400:
                raise StandaloneError(f"POST /auth/token: HTTP {response.status_code}")
            self._token = str(response.json()["access_token"])
        return self._token

    def api(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call the API as admin (or with ``token``); return the JSON body, raise on HTTP errors."""
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        response = self._client.request(method, path, json=json, params=params, headers=headers)
        if response.status_code >= 400:
            raise StandaloneError(
                f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    def wait_until_dag_parsed(self, dag_id: str, timeout: float = 90.0) -> dict[str, Any]:
        """Wait for the dag-processor to serialise ``dag_id``; import errors end the wait."""

        def parsed() -> dict[str, Any] | None:
            errors = self.api("GET", "/api/v2/importErrors").get("import_errors", [])
            if errors:
                details = "; ".join(f"{e['filename']}: {e['stack_trace'][-300:]}" for e in errors)
                raise StandaloneError(f"DAG import errors: {details}")
            dags = self.api("GET", "/api/v2/dags", params={"dag_id_pattern": dag_id})["dags"]
            return next((d for d in dags if d["dag_id"] == dag_id), None)

        return _wait(parsed, timeout, f"DAG {dag_id!r} to be parsed", self)

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Start a manual run now and return its run id."""
        run = self.api(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": dict(conf or {})},
        )
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"))

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        states: Collection[str] = TERMINAL_RUN_STATES,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """Wait until the run is in one of ``states``; a different final state fails at once."""

        def reached() -> dict[str, Any] | None:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in states:
                return run
            if run["state"] in TERMINAL_RUN_STATES:
                raise StandaloneError(
                    f"run {run_id} ended {run['state']}, expected {sorted(states)}; "
                    f"tasks: {self._ti_states(dag_id, run_id)}"
                )
            return None

        return _wait(reached, timeout, f"run {run_id} of {dag_id} in {sorted(states)}", self)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return list(body["task_instances"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(
            self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        )

    def wait_for_task(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: Collection[str],
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """Wait until one task instance is in one of ``states`` (e.g. ``{"deferred"}``)."""

        def reached() -> dict[str, Any] | None:
            ti = self.task_instance(dag_id, run_id, task_id)
            return ti if ti["state"] in states else None

        return _wait(reached, timeout, f"{dag_id}.{task_id} in {sorted(states)}", self)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.api("GET", path, params={"deserialize": True})["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        body = self.api("GET", path, params={"full_content": True})
        content = body.get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(_log_line(item) for item in content)

    def _ti_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {t["task_id"]: t["state"] for t in self.task_instances(dag_id, run_id)}


def _log_line(item: Any) -> str:
    """One structured log record as text, with the exception it carries (type: message)."""
    if not isinstance(item, dict):
        return str(item)
    text = str(item.get("event", ""))
    for error in item.get("error_detail") or []:
        if isinstance(error, dict):
            text += f"\n{error.get('exc_type')}: {error.get('exc_value')}"
    return text


def _wait(condition: Any, timeout: float, what: str, stack: AirflowStandalone) -> Any:
    """``wait_until`` that stops at once on a StandaloneError and adds the log tail on timeout."""
    failure: list[StandaloneError] = []

    def check() -> Any:
        try:
            return condition()
        except StandaloneError as exc:
            failure.append(exc)
            return True

    try:
        result = wait_until(check, timeout=timeout, interval=0.5, what=what)
    except TimeoutError as exc:
        raise StandaloneError(f"{exc}\n--- standalone log tail ---\n{stack.log_tail()}") from None
    if failure:
        raise failure[0]
    return result


def _end_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace``, reap the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(process.pid):
        process.poll()
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
