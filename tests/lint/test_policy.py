"""The cluster policy under a real DagBag, registered through the airflow.policy entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

OFFENDING = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("offending", default_args=ARGS, schedule=None):
        a = BashOperator(task_id="make", bash_command="make > /tmp/out.bin")
        b = BashOperator(task_id="ship", bash_command="ship < /tmp/out.bin")
        a >> b
    """
)
CLEAN = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("clean", default_args=ARGS, schedule=None):
        BashOperator(task_id="hello", bash_command="echo hello")
    """
)
PROBE = textwrap.dedent(
    """
    import json, sys
    from importlib.metadata import entry_points
    from airflow.dag_processing.dagbag import DagBag
    names = [ep.value for ep in entry_points(group="airflow.policy")]
    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors,
                      "entry_points": names}))
    """
)


def _load(tmp_path: Path, mode: str, airflow_cfg: dict[str, str] | None = None) -> dict:
    home = tmp_path / f"home_{mode}"
    dags = tmp_path / "dags"
    home.mkdir()
    dags.mkdir(exist_ok=True)
    (dags / "offending.py").write_text(OFFENDING)
    (dags / "clean.py").write_text(CLEAN)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__SPOF__LINT_POLICY_MODE": mode,
        **(airflow_cfg or {}),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(dags)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["log"] = done.stdout + done.stderr
    return result


@pytest.mark.parametrize("mode", ["enforce", "warn", "off"])
def test_policy_modes_under_dagbag(tmp_path: Path, mode: str) -> None:
    result = _load(tmp_path, mode)
    assert "airflow_spof.lint.policy" in result["entry_points"]
    if mode == "enforce":
        assert result["dags"] == ["clean"]
        (message,) = [v for k, v in result["errors"].items() if k.endswith("offending.py")]
        assert "AirflowClusterPolicyViolation" in message and "SPF301" in message
    else:
        assert result["dags"] == ["clean", "offending"] and result["errors"] == {}
    logged = "airflow-spof SPF301" in result["log"]
    assert logged is (mode != "off")


SUPPRESSED = OFFENDING.replace("offending", "suppressed").replace(
    'bash_command="ship < /tmp/out.bin")', 'bash_command="ship < /tmp/out.bin")  # noqa: SPF301'
)
WRONG_CODE = OFFENDING.replace("offending", "wrong_code").replace(
    'bash_command="ship < /tmp/out.bin")', 'bash_command="ship < /tmp/out.bin")  # noqa: SPF101'
)
TASKFLOW_SUPPRESSED = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import BaseHook, dag, task

    @dag(dag_id="taskflow_suppressed", schedule=None,
         default_args={"retries": 2, "execution_timeout": timedelta(minutes=5)})
    def pipeline():
        @task  # noqa: SPF101
        def load() -> None:
            BaseHook.get_connection("pg_main")

        load()

    pipeline()
    """
)
TASKFLOW_FLAGGED = TASKFLOW_SUPPRESSED.replace("taskflow_suppressed", "taskflow_flagged").replace(
    "  # noqa: SPF101", ""
)


def _line_of(text: str, marker: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if marker in line)


def _load_files(
    tmp_path: Path, mode: str, files: dict[str, str], airflow_cfg: dict[str, str] | None = None
) -> dict:
    dags = tmp_path / "dags"
    dags.mkdir(exist_ok=True)
    for name, text in files.items():
        (dags / name).write_text(text)
    return _load(tmp_path, mode, airflow_cfg)


WAITING = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
    from airflow.providers.standard.sensors.filesystem import FileSensor

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("waiting", default_args=ARGS, schedule=None):
        FileSensor(task_id="wait_file", filepath="/data/in", fs_conn_id="fs_main",
                   mode="reschedule", timeout=600)
        TriggerDagRunOperator(task_id="child", trigger_dag_id="child", wait_for_completion=True)
    """
)
PARAMETERS = textwrap.dedent(
    """
    import functools
    from datetime import timedelta
    from airflow.sdk import BaseHook, dag, task
    from airflow.providers.standard.operators.python import PythonOperator

    def export() -> None:
        BaseHook.get_connection("pg_classic")

    def copy(conn_id: str, table: str) -> None:
        BaseHook.get_connection(conn_id)

    @dag(dag_id="parameters", schedule=None,
         default_args={"retries": 2, "execution_timeout": timedelta(minutes=5)})
    def pipeline():
        @task
        def load(conn_id: str) -> None:
            BaseHook.get_connection(conn_id)

        load("pg_given")
        PythonOperator(task_id="export", python_callable=export)
        PythonOperator(task_id="ping", python_callable=lambda: BaseHook.get_connection("pg_l"))
        PythonOperator(task_id="copy", python_callable=functools.partial(copy, "pg_partial"),
                       op_args=["t"])

    pipeline()
    """
)
MAPPED = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
    from airflow.providers.standard.operators.bash import BashOperator

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("mapped", default_args=ARGS, schedule=None):
        SQLExecuteQueryOperator.partial(task_id="vacuum", conn_id="pg_dw").expand(
            sql=["VACUUM a", "VACUUM b"])
        fetch = BashOperator.partial(task_id="fetch").expand_kwargs(
            [{"bash_command": "curl -o /tmp/x.csv http://10.0.0.8/x"}, {"bash_command": "echo"}])
        fetch >> BashOperator(task_id="use", bash_command="load < /tmp/x.csv")
    """
)
CUSTOM = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG, BaseHook, BaseOperator
    from airflow.providers.http.hooks.http import HttpHook

    class NotifyOperator(BaseOperator):
        def __init__(self, endpoint="api_notify", **kwargs):
            super().__init__(**kwargs)
            self.hook = HttpHook(http_conn_id=endpoint)

        def execute(self, context):
            self.hook.run("/done")

    class ExportOperator(BaseOperator):
        def __init__(self, source="pg_custom", **kwargs):
            super().__init__(**kwargs)
            self.source = source

        def execute(self, context):
            self._open()

        def _open(self):
            BaseHook.get_connection(self.source)

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("custom", default_args=ARGS, schedule=None):
        ExportOperator(task_id="export")
        NotifyOperator(task_id="notify")
    """
)
CLASSIC_FILES = {"suppressed.py": SUPPRESSED, "wrong_code.py": WRONG_CODE}
TASKFLOW_FILES = {
    "taskflow_suppressed.py": TASKFLOW_SUPPRESSED,
    "taskflow_flagged.py": TASKFLOW_FLAGGED,
}


def test_policy_enforce_honours_noqa_on_the_task_line(tmp_path: Path) -> None:
    result = _load_files(tmp_path, "enforce", CLASSIC_FILES)
    assert result["dags"] == ["clean", "suppressed"]
    errors = {Path(k).name: v for k, v in result["errors"].items()}
    assert set(errors) == {"offending.py", "wrong_code.py"}
    ship = _line_of(WRONG_CODE, 'task_id="ship"')
    assert "SPF301" in errors["wrong_code.py"]
    assert f"wrong_code.py:{ship})" in errors["wrong_code.py"]  # the real line, not line 1


def test_policy_warn_logs_real_lines_and_skips_noqa(tmp_path: Path) -> None:
    result = _load_files(
        tmp_path,
        "warn",
        {
            **CLASSIC_FILES,
            **TASKFLOW_FILES,
            "waiting.py": WAITING,
            "parameters.py": PARAMETERS,
            "mapped.py": MAPPED,
            "custom.py": CUSTOM,
        },
    )
    assert result["errors"] == {}
    log, dags = result["log"], tmp_path / "dags"
    ship = _line_of(OFFENDING, 'task_id="ship"')
    assert f"SPF301 task 'offending.ship' ({dags / 'offending.py'}:{ship})" in log
    assert f"SPF301 task 'wrong_code.ship' ({dags / 'wrong_code.py'}:{ship})" in log
    assert "task 'suppressed.ship'" not in log
    decorator = _line_of(TASKFLOW_FLAGGED, "@task")
    flagged = f"task 'taskflow_flagged.load' ({dags / 'taskflow_flagged.py'}:{decorator})"
    assert f"SPF101 {flagged}" in log and f"SPF302 {flagged}" in log
    # the noqa on the decorator line silences SPF101 only
    suppressed = f"task 'taskflow_suppressed.load' ({dags / 'taskflow_suppressed.py'}:{decorator})"
    assert f"SPF101 {suppressed}" not in log and f"SPF302 {suppressed}" in log
    assert ".py:1)" not in log
    # a triggered run waited for in a worker slot; a sensor is never its own SPOF
    assert "SPF403 task 'waiting.child'" in log
    assert "task 'waiting.wait_file'" not in log
    # a connection the DAG passes to a TaskFlow function's parameter
    assert "SPF101 task 'parameters.load'" in log and "'pg_given'" in log
    # and one a classic PythonOperator's callable opens
    assert "SPF101 task 'parameters.export'" in log and "'pg_classic'" in log
    assert "SPF101 task 'parameters.ping'" in log and "'pg_l'" in log  # a lambda
    assert "SPF101 task 'parameters.copy'" in log and "'pg_partial'" in log  # functools.partial
    # mapped operators: what .partial() fixes and the literal values mapped over
    assert "SPF101 task 'mapped.vacuum'" in log and "'pg_dw'" in log
    assert "SPF204 task 'mapped.fetch'" in log and "'10.0.0.8'" in log
    assert "SPF301 task 'mapped.use'" in log  # reads the file a mapped command wrote
    # a custom operator's execute (and the helper it calls), with the object's own id
    assert "SPF101 task 'custom.export'" in log and "'pg_custom'" in log
    assert "SPF101 task 'custom.notify'" in log and "'api_notify'" in log  # a hook it keeps


PODS = textwrap.dedent(
    """
    from datetime import timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator

    ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
    with DAG("pods", default_args=ARGS, schedule=None):
        BashOperator(task_id="on_pods", bash_command="echo", queue="k8s_jobs")
        BashOperator(task_id="on_box", bash_command="echo", queue="gpu_box")
    """
)


def test_policy_knows_the_hybrid_executors_kubernetes_queue(tmp_path: Path) -> None:
    """The deployment's own ``kubernetes_queue`` gets a pod per task: not a pinned queue."""
    result = _load_files(
        tmp_path,
        "warn",
        {"pods.py": PODS},
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryKubernetesExecutor",
            "AIRFLOW__CELERY_KUBERNETES_EXECUTOR__KUBERNETES_QUEUE": "k8s_jobs",
        },
    )
    assert "pods" in result["dags"]
    assert "SPF201 task 'pods.on_box'" in result["log"]
    assert "task 'pods.on_pods'" not in result["log"]


ASSETS = textwrap.dedent(
    """
    from airflow.sdk import BaseHook, asset

    @asset(schedule=None)
    def raw_orders():
        BaseHook.get_connection("pg_orders")
    """
)


def test_policy_reads_asset_functions(tmp_path: Path) -> None:
    """An ``@asset`` is a DAG of one task running the function: its connection counts."""
    result = _load_files(tmp_path, "warn", {"assets.py": ASSETS})
    assert "raw_orders" in result["dags"]
    line = _line_of(ASSETS, "@asset")
    flagged = f"task 'raw_orders.raw_orders' ({tmp_path / 'dags' / 'assets.py'}:{line})"
    assert f"SPF101 {flagged}" in result["log"] and "'pg_orders'" in result["log"]
