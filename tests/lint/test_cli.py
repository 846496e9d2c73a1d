"""The command line: formats, exit codes, config, noqa, statistics, inventory, docs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from airflow_spof.lint import docs
from airflow_spof.lint.cli import main

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]

BAD = textwrap.dedent(
    """
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

    with DAG("bad", default_args={"retries": 0}):
        a = BashOperator(task_id="a", bash_command="curl -o /tmp/a.csv https://x.example.com")
        b = BashOperator(task_id="b", bash_command="load.sh < /tmp/a.csv")  # noqa: SPF402
        c = SQLExecuteQueryOperator(task_id="c", conn_id="pg", sql="SELECT 1")  # noqa
        a >> b
    """
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "bad.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main(["--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_text_format_and_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dags"]) == 1
    out = capsys.readouterr().out
    assert "dags/bad.py:8:9: SPF301 " in out and "\033[" not in out
    assert main(["dags", "--fail-on", "error", "--ignore", "SPF301"]) == 0
    assert main(["dags", "--color", "always"]) == 1
    assert "\033[31mSPF301" in capsys.readouterr().out


def test_noqa_bare_and_with_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, findings = _json(capsys, "dags")
    by_task = {(f["task_id"], f["code"]) for f in findings}
    assert ("b", "SPF402") not in by_task and ("b", "SPF401") in by_task
    assert not any(task == "c" for task, _ in by_task)


def test_windows_line_endings_keep_lines_and_noqa(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crlf = BAD.replace("\n", "\r\n")
    (project / "dags" / "bad.py").write_bytes(crlf.encode())
    _, findings = _json(capsys, "dags")
    assert ("dags/bad.py", 8, "SPF301") in {(f["path"], f["line"], f["code"]) for f in findings}
    assert not any(f["task_id"] == "c" for f in findings)  # still suppressed
    (project / "dags" / "bad.py").write_bytes(crlf.replace("  # noqa\r\n", "\r\n").encode())
    _, findings = _json(capsys, "dags")
    assert ("c", 9, "SPF101") in {(f["task_id"], f["line"], f["code"]) for f in findings}


def test_skip_file_and_empty_or_missing_folder(project: Path, capsys) -> None:
    (project / "dags" / "bad.py").write_text("# airflow-spof: skip-file\n" + BAD)
    assert main(["dags"]) == 0
    (project / "dags" / "bad.py").write_text(BAD + "\n  #  Airflow-SPOF: Skip-File\n")
    assert main(["dags"]) == 0
    (project / "empty").mkdir()
    assert main(["empty", "missing"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "missing does not exist" in captured.err


def test_pyproject_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
        [tool.airflow-spof.lint]
        ignore = ["SPF204"]
        fail-on = "error"
        [tool.airflow-spof.lint.severity]
        SPF401 = "error"
        SPF301 = "info"
        [tool.airflow-spof.lint.per-file-ignores]
        "dags/bad.py" = ["SPF402"]
        """
        )
    )
    code, findings = _json(capsys, "dags")
    codes = {f["code"]: f["severity"] for f in findings}
    assert "SPF204" not in codes and "SPF402" not in codes
    assert codes["SPF401"] == "error" and codes["SPF301"] == "info"
    assert code == 1
    assert main(["dags", "--ignore", "SPF401", "--format", "json"]) == 0


def test_kubernetes_queues_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "dags" / "pods.py").write_text(
        textwrap.dedent(
            """
            from datetime import timedelta
            from airflow.sdk import DAG
            from airflow.providers.standard.operators.bash import BashOperator

            ARGS = {"retries": 2, "execution_timeout": timedelta(minutes=5)}
            with DAG("pods", default_args=ARGS, schedule=None):
                BashOperator(task_id="a", bash_command="x", queue="kubernetes")
                BashOperator(task_id="b", bash_command="x", queue="k8s_jobs")
            """
        )
    )

    def pinned() -> list[str]:
        _, findings = _json(capsys, "dags/pods.py", "--select", "SPF201")
        return [f["task_id"] for f in findings]

    assert pinned() == ["b"]
    (project / "pyproject.toml").write_text(
        '[tool.airflow-spof.lint]\nkubernetes-queues = ["k8s_jobs"]\n'
    )
    assert pinned() == ["a"]
    (project / "pyproject.toml").write_text('[tool.airflow-spof.lint]\nkubernetes-queues = "x"\n')
    assert main(["dags"]) == 2
    assert "'kubernetes-queues' must be a list of strings" in capsys.readouterr().err


def test_bad_config_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.airflow-spof.lint]\nselct = ["SPF1"]\n')
    assert main(["dags"]) == 2
    assert "unknown key(s)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--format", "xml", "dags"])
    assert exc.value.code == 2


def test_sarif_validates_against_the_official_schema(project: Path, capsys) -> None:
    main(["dags", "--format", "sarif"])
    log = json.loads(capsys.readouterr().out)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run = log["runs"][0]
    assert {r["ruleId"] for r in run["results"]} >= {"SPF301", "SPF401"}
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "dags/bad.py"
    )


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["dags", "--format", "github"])
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("::error file=dags/bad.py,line=8,col=9,") and "SPF301" in line
        for line in lines
    )
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["dags", "--statistics"])
    out = capsys.readouterr().out
    assert "    2  SPF401  no-retries" in out


def test_inventory_table_and_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "dags" / "more.py").write_text(BAD.replace('"bad"', '"more"'))
    assert main(["dags", "--inventory"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:4] == ["KIND", "NAME", "DAGS", "TASKS"]
    assert main(["dags", "--inventory", "--inventory-format", "json"]) == 0
    resources = json.loads(capsys.readouterr().out)
    assert resources[0]["kind"] == "connection" and resources[0]["name"] == "pg"
    assert resources[0]["dags"] == ["bad", "more"] and resources[0]["task_count"] == 2
    assert {"kind": "host", "name": "x.example.com"}.items() <= resources[-1].items()


def test_output_file(project: Path) -> None:
    assert main(["dags", "--format", "json", "-o", "report.json"]) == 1
    assert json.loads((project / "report.json").read_text())[0]["path"] == "dags/bad.py"


def test_rules_doc_is_generated_from_the_registry() -> None:
    committed = (REPO / "docs" / "rules.md").read_text()
    assert committed == docs.render(), "run: python -m airflow_spof.lint.docs > docs/rules.md"


def test_registry_has_complete_documentation() -> None:
    from airflow_spof.lint.rules import RULES

    assert len([r for r in RULES if r.scope != "file"]) >= 12
    for rule in RULES:
        assert rule.code.startswith("SPF") and rule.name and rule.rationale.count(".") >= 2
        assert rule.bad and rule.good and rule.fix and rule.bad != rule.good


def test_example_dags_lint_clean() -> None:
    assert main([str(REPO / "dags"), "--fail-on", "info"]) == 0
