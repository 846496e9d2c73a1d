"""Every fenced block of the README is exercised: DAGs parse, code runs, commands exist."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```$", README, flags=re.M | re.S)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCKS if kind == lang]


def test_every_block_has_a_checked_language() -> None:
    assert BLOCKS, "the README has no code blocks"
    assert {kind for kind, _ in BLOCKS} <= {"bash", "python", "ini", "text"}


def test_the_two_commands_are_make_demo_and_make_test() -> None:
    first = _blocks("bash")[0].split()
    assert first == ["make", "demo", "make", "test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo: \$\(STAMP\)\n\t\$\(BIN\)/airflow-spof demo$", makefile, re.M)
    assert re.search(r"^test: \$\(STAMP\)\n\t\$\(BIN\)/pytest$", makefile, re.M)


@pytest.mark.parametrize("line", [ln for b in _blocks("bash")[1:] for ln in b.splitlines()])
def test_shell_lines_are_accepted_by_the_real_cli(line: str) -> None:
    from airflow_spof.airflow_cli import COMMANDS
    from airflow_spof.cli import build_parser

    words = shlex.split(line)
    if words[:2] == ["airflow", "spof"]:
        assert words[2] in {*COMMANDS, "lint"}
        words = ["airflow-spof", *words[2:]]
    assert words[0] == "airflow-spof", f"unchecked command in README: {line}"
    args = build_parser().parse_args(words[1:])  # argparse exits (fails the test) on errors
    assert args.command == words[1]
    if args.command == "drill":
        from airflow_spof.chaos import parse_faults

        assert parse_faults(args.fault)


def _is_dag(code: str) -> bool:
    return "with DAG(" in code or "@dag" in code


@pytest.mark.parametrize("index", range(len([b for b in _blocks("python") if _is_dag(b)])))
def test_dag_blocks_parse_in_a_dagbag_without_errors(index: int, tmp_path, airflow_db) -> None:
    from airflow.dag_processing.dagbag import DagBag

    code = [b for b in _blocks("python") if _is_dag(b)][index]
    (tmp_path / f"readme_dag_{index}.py").write_text(code)
    if str(REPO / "dags") not in sys.path:
        sys.path.append(str(REPO / "dags"))  # as in a DAGs folder holding replica_sets.py
    bag = DagBag(dag_folder=str(tmp_path))
    assert not bag.import_errors, bag.import_errors
    assert bag.dag_ids and all(dag_id.startswith("readme_") for dag_id in bag.dag_ids)
    for dag_id in bag.dag_ids:
        assert bag.get_dag(dag_id).tasks


def test_other_python_blocks_run() -> None:
    from airflow_spof.testing import pytest_plugin

    for code in (b for b in _blocks("python") if not _is_dag(b)):
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), namespace)
        for name, value in namespace.items():
            if name.startswith("test_") and callable(value):
                fixtures = value.__code__.co_varnames[: value.__code__.co_argcount]
                for fixture in fixtures:
                    assert hasattr(pytest_plugin, fixture), f"README uses unknown fixture {fixture}"


def test_ini_block_lists_exactly_the_settings_keys() -> None:
    from airflow_spof import settings

    documented = set(re.findall(r"^``(\w+)``", settings.__doc__ or "", flags=re.M))
    [ini] = _blocks("ini")
    lines = [ln for ln in ini.splitlines() if ln.strip()]
    assert lines[0] == f"[{settings.SECTION}]"
    keys = {ln.split("=", 1)[0].strip() for ln in lines[1:]}
    assert keys == documented


def test_demo_output_block_matches_the_demo() -> None:
    from airflow_spof.commands import demo
    from airflow_spof.demo import report, scenario

    source = "".join(Path(m.__file__).read_text() for m in (demo, scenario, report) if m.__file__)
    [text] = _blocks("text")
    headings = [ln for ln in text.splitlines() if ln.startswith("Step ")]
    assert len(headings) == 4
    rendered = source.replace("{scenario.PRIMARY}", scenario.PRIMARY)
    for heading in headings:
        assert heading.split(": ", 1)[1] in rendered, heading
    for fixed in (
        "killed the",
        "read fell back from",
        "breaker opened",
        "replicas identical",
        "all four steps passed",
        "HTML report (lineage of every run)",
    ):
        assert fixed in text and fixed in source
