"""The pre-commit hook, run by pre-commit itself against a throwaway repository (offline)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_pre_commit_fails_on_a_bad_dag(tmp_path: Path) -> None:
    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    assert hook["id"] == "airflow-spof-lint" and hook["entry"] == "airflow-spof lint"
    assert hook["language"] == "python"
    # language: system runs the same entry from the installed package, without network.
    local = {
        "id": hook["id"],
        "name": hook["name"],
        "entry": hook["entry"],
        "language": "system",
        "files": hook["files"],
    }
    repo = tmp_path / "repo"
    (repo / "dags").mkdir(parents=True)
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]})
    )
    (repo / "dags" / "bad.py").write_text(
        textwrap.dedent(
            """
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG("bad"):
            a = BashOperator(task_id="a", bash_command="make > /tmp/out.bin")
            b = BashOperator(task_id="b", bash_command="ship < /tmp/out.bin")
            a >> b
        """
        )
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def run_hooks() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "run", "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = run_hooks()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SPF301" in done.stdout and "dags/bad.py:6:" in done.stdout

    (repo / "dags" / "bad.py").write_text("# airflow-spof: skip-file\n")
    _git(repo, "add", ".")
    done = run_hooks()
    assert done.returncode == 0, done.stdout + done.stderr
