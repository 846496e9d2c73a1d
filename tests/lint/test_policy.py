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


def _load(tmp_path: Path, mode: str) -> dict:
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
