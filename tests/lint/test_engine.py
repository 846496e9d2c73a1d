"""Engine behaviour on realistic DAG files: resolution of constants, imports and edges."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.engine import lint_paths
from airflow_spof.lint.model import Module, Severity
from airflow_spof.lint.rules import BY_CODE
from airflow_spof.lint.static.interpreter import MAX_INLINED_CALLS

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "dags"
    shutil.copytree(FIXTURES, target)
    return target


def _module(result, name: str) -> Module:
    return next(m for m in result.modules if m.path.endswith(name))


def _by_task(result, name: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for f in result.findings:
        if f.where.path.endswith(name):
            found.setdefault(f.task_id or "-", set()).add(f.code)
    return found


def test_airflow1_style(corpus: Path) -> None:
    result = lint_paths([str(corpus)], LintConfig(root=corpus))
    tasks = _by_task(result, "airflow1_style.py")
    assert {"SPF204", "SPF401", "SPF404", "SPF101"} <= tasks["dump"]  # .update() resolved
    assert "SPF301" in tasks["load"]  # /tmp handoff through set_downstream and >>
    dag = _module(result, "airflow1_style.py").dags[0]
    assert dag.dag_id == "legacy_orders"
    assert dag.tasks["load"].upstream == {"fetch"} and dag.tasks["fetch"].upstream == {"dump"}


def test_airflow2_style_sibling_import_groups_and_mapping(corpus: Path) -> None:
    cfg = LintConfig(root=corpus, queues={"etl": 4}, pools={"warehouse": 1})
    result = lint_paths([str(corpus / "airflow2_style.py")], cfg)
    dag = _module(result, "airflow2_style.py").dags[0]
    assert set(dag.tasks) == {
        "start",
        "wait_export",
        "refresh.refresh_orders",
        "refresh.refresh_customers",
        "vacuum",
    }
    refresh = dag.tasks["refresh.refresh_orders"]
    assert refresh.get("conn_id") == "pg_warehouse"  # imported constant from common/settings.py
    assert refresh.get("retries") == 3 and refresh.upstream == {"wait_export"}
    assert dag.tasks["vacuum"].upstream == {"refresh.refresh_orders", "refresh.refresh_customers"}
    tasks = _by_task(result, "airflow2_style.py")
    assert "SPF401" in tasks["vacuum"] and "SPF401" not in tasks.get(
        "refresh.refresh_orders", set()
    )
    assert "SPF203" in tasks["start"] and "SPF201" not in tasks["start"]
    assert "SPF403" in tasks["wait_export"]
    assert "SPF302" not in tasks.get("refresh.refresh_orders", set())  # guarded by the sensor


def test_airflow3_style_taskflow(corpus: Path) -> None:
    result = lint_paths([str(corpus / "airflow3_style.py")], LintConfig(root=corpus))
    dag = _module(result, "airflow3_style.py").dags[0]
    assert dag.dag_id == "orders_v3"
    assert dag.tasks["transform"].upstream == {"extract"}
    assert dag.tasks["write"].upstream == {"ready", "transform"}
    tasks = _by_task(result, "airflow3_style.py")
    assert "SPF301" in tasks["transform"] and "SPF201" in tasks["extract"]
    assert "SPF403" not in tasks.get("ready", set())
    replica_codes = {f.code for f in result.findings if f.task_id is None}
    assert {"SPF102", "SPF103", "SPF104"} <= replica_codes


def test_dag_factory_functions_and_comprehensions(tmp_path: Path) -> None:
    (tmp_path / "factory.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "def build(dag_id, queue):\n"
        "    with DAG(dag_id, default_args={'retries': 1}) as d:\n"
        "        ops = [BashOperator(task_id=f't{i}', bash_command='x', queue=queue)"
        " for i in range(3)]\n"
        "        ops[0] >> ops[1:]\n"
        "    return d\n"
        "for name in ['a', 'b']:\n"
        "    globals()[name] = build(name, 'solo')\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path, queues={"solo": 1}))
    dags = {d.dag_id: d for d in result.modules[0].dags}
    assert set(dags) == {"a", "b"} and set(dags["a"].tasks) == {"t0", "t1", "t2"}
    assert dags["a"].tasks["t2"].upstream == {"t0"}
    # one finding per source location: both generated DAGs share the same lines
    assert sum(f.code == "SPF201" for f in result.findings) == 3


def test_missing_and_empty_folders_report_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = lint_paths([str(tmp_path / "empty"), str(tmp_path / "nope")], LintConfig())
    assert (
        result.findings == [] and result.files == 0 and result.missing == [str(tmp_path / "nope")]
    )


def test_engine_never_imports_airflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from airflow_spof.lint.cli import main; main(['--format', 'json', '.']);"
        "assert not any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules),"
        " 'airflow imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=FIXTURES, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_parallel_run_matches_serial(corpus: Path) -> None:
    cfg = LintConfig(root=corpus)
    serial = lint_paths([str(corpus)], cfg, jobs=1)
    parallel = lint_paths([str(corpus)], cfg, jobs=2)
    assert [f.to_dict() for f in parallel.findings] == [f.to_dict() for f in serial.findings]
    assert len(parallel.modules) == len(serial.modules)


@pytest.mark.parametrize("jobs", [1, 2])
def test_findings_do_not_depend_on_keeping_modules(corpus: Path, jobs: int) -> None:
    """Unkept modules are torn down as soon as they are checked; kept ones stay whole."""
    cfg = LintConfig(root=corpus)
    kept = lint_paths([str(corpus)], cfg, jobs=jobs, keep_modules=True)
    dropped = lint_paths([str(corpus)], cfg, jobs=jobs, keep_modules=False)
    assert [f.to_dict() for f in dropped.findings] == [f.to_dict() for f in kept.findings]
    assert dropped.modules == []
    assert all(dag.tasks for module in kept.modules for dag in module.dags)


def test_method_call_on_a_new_operator_creates_one_task(tmp_path: Path) -> None:
    (tmp_path / "chained.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "with DAG('chained') as d:\n"
        "    last = BashOperator(task_id='last', bash_command='x')\n"
        "    BashOperator(task_id='first', bash_command='x').set_downstream(last)\n"
        "    BashOperator(task_id='after', bash_command='x').set_upstream(last)\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    tasks = result.modules[0].dags[0].tasks
    assert set(tasks) == {"last", "first", "after"}
    assert tasks["last"].upstream == {"first"} and tasks["after"].upstream == {"last"}


def test_main_guard_is_skipped_and_other_ifs_are_followed(tmp_path: Path) -> None:
    (tmp_path / "guarded.py").write_text(
        "import os\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "with DAG('guarded') as d:\n"
        "    if os.environ.get('EXTRA') is not None:\n"
        "        BashOperator(task_id='extra', bash_command='x')\n"
        "if __name__ == '__main__':\n"
        "    BashOperator(task_id='script_only', bash_command='x')\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    (dag,) = result.modules[0].dags
    assert set(dag.tasks) == {"extra"}


def test_percent_formatting_of_known_values_names_each_task(tmp_path: Path) -> None:
    (tmp_path / "percent.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from somewhere import unknown\n"
        "with DAG('percent') as d:\n"
        "    for i in range(3):\n"
        "        BashOperator(task_id='step_%d' % i, bash_command='x')\n"
        "    BashOperator(task_id='%s_%02d' % ('load', 7), bash_command='x')\n"
        "    BashOperator(task_id='%(kind)s' % {'kind': 'dict'}, bash_command='x')\n"
        "    BashOperator(task_id='u_%s' % unknown, bash_command='x')\n"
        "    BashOperator(task_id='huge_%0999999999d' % 1, bash_command='x')\n"
        "    BashOperator(task_id='star_%*d' % (999999999, 1), bash_command='x')\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    tasks = set(result.modules[0].dags[0].tasks)
    assert {"step_0", "step_1", "step_2", "load_07", "dict"} <= tasks
    # An unknown value, or a width that would build a huge string, stays a template.
    assert {"u_%s", "huge_%0999999999d", "star_%*d"} <= tasks


def _tasks(tmp_path: Path, source: str) -> dict[str, Any]:
    (tmp_path / "dag_file.py").write_text(source)
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    return {t.task_id: t for dag in result.modules[0].dags for t in dag.tasks.values()}


def test_nested_task_groups_prefix_like_airflow(tmp_path: Path) -> None:
    tasks = _tasks(
        tmp_path,
        "from airflow.sdk import DAG, TaskGroup, task, task_group\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        "with DAG('groups'):\n"
        "    with TaskGroup('outer') as outer:\n"
        "        EmptyOperator(task_id='a')\n"
        "        with TaskGroup('inner'):\n"
        "            EmptyOperator(task_id='b')\n"
        "        with TaskGroup('flat', prefix_group_id=False):\n"
        "            EmptyOperator(task_id='c')\n"
        "    after = EmptyOperator(task_id='after')\n"
        "    outer >> after\n"
        "    @task_group\n"
        "    def deco():\n"
        "        @task_group(group_id='sub')\n"
        "        def sub():\n"
        "            @task\n"
        "            def leaf():\n"
        "                return 1\n"
        "            leaf()\n"
        "        sub()\n"
        "    deco()\n"
        "    deco()\n",
    )
    assert set(tasks) == {
        "outer.a",
        "outer.inner.b",
        "c",  # prefix_group_id=False: the group's children keep their own ids
        "after",
        "deco.sub.leaf",
        "deco__1.sub.leaf",  # a decorated group called twice gets a suffix, as in Airflow
    }
    assert tasks["after"].upstream == {"outer.a", "outer.inner.b", "c"}


def test_mapped_groups_setup_teardown_and_xcom_subscripts_keep_tasks_and_edges(
    tmp_path: Path,
) -> None:
    tasks = _tasks(
        tmp_path,
        "from airflow.sdk import DAG, chain, setup, task, task_group, teardown\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        "with DAG('shapes'):\n"
        "    @task\n"
        "    def nums():\n"
        "        return {'n': [1, 2]}\n"
        "    @task_group\n"
        "    def per_num(num):\n"
        "        @task\n"
        "        def double(x):\n"
        "            return 2 * x\n"
        "        double(num)\n"
        "    got = nums()\n"
        "    per_num.expand(num=got['n'])\n"
        "    per_num.override(group_id='again').partial().expand(num=[1])\n"
        "    @setup\n"
        "    def create_cluster():\n"
        "        return 'id'\n"
        "    @teardown\n"
        "    @task(retries=1)\n"
        "    def delete_cluster(cluster_id):\n"
        "        pass\n"
        "    made = create_cluster()\n"
        "    delete_cluster(made)\n"
        "    s = BashOperator(task_id='s', bash_command='x').as_setup()\n"
        "    w = BashOperator(task_id='w', bash_command='x')\n"
        "    t = EmptyOperator(task_id='t').as_teardown(setups=s)\n"
        "    s >> w >> t\n"
        "    tail = [EmptyOperator(task_id=f'tail_{i}') for i in range(2)]\n"
        "    chain(w, *tail)\n",
    )
    assert {"per_num.double", "again.double", "create_cluster", "delete_cluster"} <= set(tasks)
    assert tasks["per_num.double"].upstream == {"nums"}  # got['n'] is still nums' XCom
    assert tasks["delete_cluster"].upstream == {"create_cluster"}
    assert tasks["delete_cluster"].get("retries") == 1
    assert tasks["w"].upstream == {"s"} and tasks["t"].upstream == {"s", "w"}
    assert tasks["tail_0"].upstream == {"w"} and tasks["tail_1"].upstream == {"tail_0"}


def test_a_sibling_module_imported_from_its_package_is_read(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "settings.py").write_text(
        "from datetime import timedelta\n"
        "ARGS = {'retries': 2, 'execution_timeout': timedelta(minutes=5), 'queue': 'solo'}\n"
    )
    (tmp_path / "uses_package.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from common import settings\n"
        "with DAG('d', default_args=settings.ARGS):\n"
        "    BashOperator(task_id='t', bash_command='x')\n"
    )
    (tmp_path / "uses_star.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from common.settings import *\n"
        "with DAG('e', default_args=ARGS):\n"
        "    BashOperator(task_id='t', bash_command='x')\n"
    )
    cfg = LintConfig(root=tmp_path, queues={"solo": 1})
    result = lint_paths([str(tmp_path / "uses_package.py"), str(tmp_path / "uses_star.py")], cfg)
    assert [f.code for f in result.findings] == ["SPF201", "SPF201"]


def test_optional_imports_and_helpers_do_not_decide_a_branch(tmp_path: Path) -> None:
    (tmp_path / "optional.py").write_text(
        "import os\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "try:\n"
        "    from kubernetes.client import models as k8s\n"
        "except ImportError:\n"
        "    k8s = None\n"
        "def enabled():\n"
        "    if os.getenv('FEATURE'):\n"
        "        return True\n"
        "    return False\n"
        "if k8s:\n"
        "    with DAG('needs_k8s'):\n"
        "        BashOperator(task_id='t', bash_command='x')\n"
        "if not enabled():\n"
        "    with DAG('feature_off'):\n"
        "        BashOperator(task_id='t', bash_command='x')\n"
        "if 'prod' in ('dev', 'test'):\n"
        "    with DAG('never'):\n"
        "        BashOperator(task_id='t', bash_command='x')\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    assert [d.dag_id for d in result.modules[0].dags] == ["needs_k8s", "feature_off"]


def test_tasks_made_by_a_sibling_module_are_reported_where_this_file_calls_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "factory.py").write_text(
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from airflow.sdk import DAG, dag, task\n"
        "# padding so that lines of this file do not exist in the DAG file\n"
        "#\n#\n#\n#\n#\n"
        "def make_load(table):\n"
        "    return BashOperator(task_id=f'load_{table}', bash_command='x', queue='solo')\n"
        "@task(queue='solo')\n"
        "def shared_task():\n"
        "    return 1\n"
        "def make_dag(name):\n"
        "    with DAG(name) as d:\n"
        "        BashOperator(task_id='in_factory', bash_command='x', queue='solo')\n"
        "    return d\n"
    )
    (tmp_path / "dag_file.py").write_text(
        "from airflow.sdk import DAG\n"
        "from common.factory import make_dag, make_load, shared_task\n"
        "with DAG('uses_factory'):\n"
        "    make_load('orders')\n"
        "    shared_task()  # noqa: SPF201\n"
        "made = make_dag('built')\n"
    )
    cfg = LintConfig(root=tmp_path, select=["SPF201"])
    result = lint_paths([str(tmp_path / "dag_file.py")], cfg)
    assert [(Path(f.where.path).name, f.where.line, f.task_id) for f in result.findings] == [
        ("dag_file.py", 4, "load_orders"),
        ("dag_file.py", 6, "in_factory"),
    ]


def test_match_cases_are_followed(tmp_path: Path) -> None:
    (tmp_path / "matched.py").write_text(
        "import os\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "with DAG('matched'):\n"
        "    match os.getenv('ENV'):\n"
        "        case 'prod':\n"
        "            BashOperator(task_id='run', bash_command='x', queue='prod')\n"
        "        case _:\n"
        "            BashOperator(task_id='run', bash_command='x')\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    tasks = result.modules[0].dags[0].tasks.values()
    assert [(t.task_id, t.get("queue")) for t in tasks] == [("run", "prod"), ("run", None)]


def test_huge_repeated_strings_are_not_built() -> None:
    import ast

    from airflow_spof.lint.model import UNKNOWN
    from airflow_spof.lint.static.evaluator import Evaluator

    evaluator = Evaluator({})
    assert evaluator.eval(ast.parse("'-' * 80", mode="eval").body) == "-" * 80
    assert evaluator.eval(ast.parse("'x' * 100_000_000", mode="eval").body) is UNKNOWN
    assert evaluator.eval(ast.parse("[0] * 100_000_000", mode="eval").body) is UNKNOWN


def test_a_file_changing_an_imported_constant_does_not_change_other_files(tmp_path: Path) -> None:
    (tmp_path / "common.py").write_text(
        "from datetime import timedelta\n"
        "ARGS = {'retries': 2, 'execution_timeout': timedelta(minutes=5)}\n"
        "EXTRA = []\n"
    )
    header = (
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from common import ARGS, EXTRA\n"
    )
    (tmp_path / "a_changes.py").write_text(
        header + "ARGS['retries'] = 0\nARGS.update(queue='solo')\nEXTRA.append(1)\n"
    )
    (tmp_path / "a_changes_too.py").write_text(
        "import common\ncommon.ARGS['retries'] = 0\ncommon.EXTRA.append(2)\n"
    )
    (tmp_path / "b_reads.py").write_text(
        header
        + "with DAG('b', default_args=ARGS):\n"
        + "    for n in EXTRA:\n"
        + "        BashOperator(task_id=f'extra_{n}', bash_command='x')\n"
        + "    BashOperator(task_id='t', bash_command='x')\n"
    )
    for jobs in (1, 2):
        result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path), jobs=jobs)
        assert result.findings == []
        (b_reads,) = [m for m in result.modules if m.path.endswith("b_reads.py")]
        assert set(b_reads.dags[0].tasks) == {"t"}


def test_tasks_one_call_site_makes_are_judged_by_their_own_arguments(tmp_path: Path) -> None:
    """A loop's tasks share what rules derive only while their arguments repeat."""
    (tmp_path / "loop.py").write_text(
        "from datetime import timedelta\n"
        "import requests\n"
        "from airflow.sdk import DAG, task\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from somewhere import unknown\n"
        "OK = {'retries': 2, 'execution_timeout': timedelta(minutes=5)}\n"
        "@task\n"
        "def quiet():\n"
        "    return 1\n"
        "@task\n"
        "def loud():\n"
        "    return requests.get('https://api.example.com/v1')\n"
        "with DAG('loop', default_args=OK):\n"
        "    for i, conn in enumerate(['pg_a', 'pg_a', 'pg_b', f'pg_{unknown}', 'pg_{?}']):\n"
        "        SQLExecuteQueryOperator(task_id=f'q{i}', conn_id=conn, sql='INSERT 1')\n"
        "    for i, host in enumerate(['a.example.com', 'a.example.com', 'localhost']):\n"
        "        BashOperator(task_id=f'b{i}', bash_command=f'curl http://{host}/x > /tmp/o')\n"
        "    for i in range(2):\n"
        "        BashOperator(task_id=f'p{i}', bash_command=f'date > /tmp/p/{i}')\n"
        "    for make in [quiet, loud, quiet]:\n"
        "        make()\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    single = {f.task_id: f.message for f in result.findings if f.code == "SPF101"}
    assert {t: m.split("'")[3] for t, m in single.items()} == {
        "q0": "pg_a",
        "q1": "pg_a",
        "q2": "pg_b",
        "q4": "pg_{?}",  # a literal id with braces, not the unresolved f-string of q3
    }
    hosts = {f.task_id for f in result.findings if f.code == "SPF204"}
    assert hosts == {"b0", "b1", "loud"}
    tasks = {t.task_id: t for t in result.modules[0].dags[0].tasks.values()}
    assert [p.path for p in tasks["p0"].paths] == ["/tmp/p/0"]
    assert [p.path for p in tasks["p1"].paths] == ["/tmp/p/1"]
    assert {"quiet", "loud", "quiet__1"} <= set(tasks)


def test_fstring_format_specs_and_conversions_name_tasks_like_python(tmp_path: Path) -> None:
    tasks = _tasks(
        tmp_path,
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from somewhere import unknown\n"
        "with DAG('fmt'):\n"
        "    for i in range(2):\n"
        "        BashOperator(task_id=f'step_{i:02d}', bash_command='x')\n"
        "    BashOperator(task_id=f'{\"q\"!r}_{3.14159:.2f}_{7:>3}', bash_command='x')\n"
        "    BashOperator(task_id=f'u_{unknown:03d}', bash_command='x')\n"
        "    BashOperator(task_id=f'huge_{1:099999999}', bash_command='x')\n"
        "    BashOperator(task_id=f'bad_{\"s\":d}', bash_command='x')\n",
    )
    assert {"step_00", "step_01", "'q'_3.14_  7"} <= set(tasks)
    # unknown values, a width that would build a huge string, a spec the value refuses
    assert {"u_{?}", "huge_{?}", "bad_{?}"} <= set(tasks)


def test_helpers_that_call_each_other_without_end_are_followed_only_so_far(
    tmp_path: Path,
) -> None:
    """Each helper calls the next 60 times: 60**5 calls if followed to the end. The linter
    stops following them after a bounded number and still finds the DAG around them."""
    helpers = "".join(
        f"def h{i}():\n    for _ in range(60):\n        h{i + 1}()\n    return 1\n"
        for i in range(5)
    )
    (tmp_path / "deep.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        + helpers
        + "def h5():\n    return BashOperator(task_id='inner', bash_command='x')\n"
        "with DAG('deep'):\n"
        "    h0()\n"
        "    BashOperator(task_id='after', bash_command='x', retries=0)\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    tasks = set(result.modules[0].dags[0].tasks)
    assert "after" in tasks and "inner" in tasks
    assert any(f.code == "SPF401" and f.task_id == "after" for f in result.findings)
    # ...and says where it stopped: the quiet rest of the file is not a clean bill
    (unfollowed,) = [f for f in result.findings if f.code == "SPF002"]
    lines = (tmp_path / "deep.py").read_text().splitlines()
    assert lines[unfollowed.where.line - 1].strip() in {f"h{i}()" for i in range(1, 6)}
    assert unfollowed.severity is Severity.INFO and "not checked" in unfollowed.message
    assert f"{MAX_INLINED_CALLS:,} calls" in BY_CODE["SPF002"].rationale


def test_a_file_within_the_call_budget_is_not_reported_as_unfollowed(tmp_path: Path) -> None:
    (tmp_path / "factory.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "def step(i, j):\n    return BashOperator(task_id=f's{i}_{j}', bash_command='x')\n"
        "with DAG('wide'):\n"
        "    for i in range(60):\n"
        "        for j in range(33):\n"
        "            step(i, j)\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    assert len(result.modules[0].dags[0].tasks) == 60 * 33
    assert not [f for f in result.findings if f.code == "SPF002"]


def test_classes_named_like_operators_are_operators_only_by_descent(tmp_path: Path) -> None:
    """``class IdentityOperator(Operator)`` in a maths library is no Airflow operator; a
    subclass of Airflow's BaseOperator (directly or through a local base) is."""
    (tmp_path / "algebra.py").write_text(
        "class Expr:\n    pass\n"
        "class Operator(Expr):\n    pass\n"
        "class IdentityOperator(Operator):\n    pass\n"
    )
    (tmp_path / "dag_file.py").write_text(
        "from airflow.sdk import DAG, BaseOperator\n"
        "from algebra import IdentityOperator\n"
        "class LoadBase(BaseOperator):\n    pass\n"
        "class LoadOperator(LoadBase):\n    pass\n"
        "class Step:  # a wrapper that makes an operator inside: its task_id says so\n"
        "    pass\n"
        "I = IdentityOperator(2)\n"
        "with DAG('d'):\n"
        "    IdentityOperator('x')\n"
        "    LoadOperator(task_id='load')\n"
        "    Step(task_id='wrapped')\n"
    )
    result = lint_paths([str(tmp_path / "dag_file.py")], LintConfig(root=tmp_path))
    tasks = {t for dag in result.modules[0].dags for t in dag.tasks}
    assert tasks == {"load", "wrapped"}


def test_dags_built_by_classes_are_followed(tmp_path: Path) -> None:
    """A DAG factory written as a class: ``__init__`` keeps the settings on ``self``, a
    method builds the DAG from them; static methods and class attributes too."""
    tasks = _tasks(
        tmp_path,
        "from datetime import timedelta\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
        "class Warehouse:\n"
        "    RETRIES = 0\n"
        "    def __init__(self, name, tables, conn_id='pg_dw'):\n"
        "        self.name = name\n"
        "        self.tables = tables\n"
        "        self.conn_id = conn_id\n"
        "        self.args = {'retries': self.RETRIES}\n"
        "    @staticmethod\n"
        "    def sql_for(table):\n"
        "        return f'SELECT * FROM {table}'\n"
        "    @classmethod\n"
        "    def audit(cls):\n"
        "        return cls('audit', ['log'], conn_id='pg_audit')\n"
        "    def build(self):\n"
        "        with DAG(self.name, default_args=self.args) as dag:\n"
        "            for table in self.tables:\n"
        "                SQLExecuteQueryOperator(task_id=f'load_{table}', conn_id=self.conn_id,\n"
        "                                        sql=Warehouse.sql_for(table))\n"
        "        return dag\n"
        "sales = Warehouse('sales', ['orders', 'refunds']).build()\n"
        "Warehouse.audit().build()\n",
    )
    assert set(tasks) == {"load_orders", "load_refunds", "load_log"}
    assert tasks["load_orders"].get("conn_id") == "pg_dw"
    assert tasks["load_log"].get("conn_id") == "pg_audit"
    assert tasks["load_orders"].get("sql") == "SELECT * FROM orders"
    assert tasks["load_refunds"].get("retries") == 0
    assert tasks["load_log"].dag_id == "audit"


def test_assets_are_dags_of_one_task(tmp_path: Path) -> None:
    """Airflow 3's ``@asset``: a DAG named after the asset (or ``dag_id``) whose one task
    runs the function, or the ``@task`` stacked under it. Dagster's ``@asset`` is not."""
    source = (
        "from airflow.sdk import Asset, asset, task\n"
        "from airflow.providers.postgres.hooks.postgres import PostgresHook\n"
        "@asset(schedule='@daily')\n"
        "def raw_orders():\n"
        "    PostgresHook(postgres_conn_id='pg_orders').get_records('select 1')\n"
        "@asset(schedule=raw_orders, name='orders_clean', dag_id='clean')\n"
        "@task(retries=3)\n"
        "def clean_orders(raw_orders):\n"
        "    return 1\n"
        "@asset(schedule=None, name='orders_report')\n"
        "def report():\n"
        "    pass\n"
        "@asset.multi(schedule=None, outlets=[Asset('a'), Asset('b')])\n"
        "def split():\n"
        "    pass\n"
    )
    (tmp_path / "assets.py").write_text(source)
    (tmp_path / "dagster_assets.py").write_text(
        "from dagster import asset\n@asset\ndef elsewhere():\n    pass\n"
    )
    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    dags = {d.dag_id: list(d.tasks) for m in result.modules for d in m.dags}
    assert dags == {
        "raw_orders": ["raw_orders"],
        "clean": ["clean_orders"],
        "orders_report": ["report"],
        "split": ["split"],
    }
    found = _by_task(result, "assets.py")
    assert {"SPF101", "SPF302", "SPF401"} <= found["raw_orders"]
    assert "SPF401" not in found["clean_orders"]  # retries=3 from the @task below
    raw = next(f for f in result.findings if f.task_id == "raw_orders" and f.code == "SPF101")
    assert "'pg_orders'" in raw.message and raw.where.line == 3  # the @asset line


def test_sibling_modules_operators_and_factories_keep_their_own_defaults(tmp_path: Path) -> None:
    """A default value is evaluated where the function is defined: ``conn_id=WAREHOUSE``
    in ``include/operators.py`` is that module's constant, not the caller's name."""
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "__init__.py").write_text("")
    (tmp_path / "include" / "operators.py").write_text(
        "from airflow.sdk import BaseOperator\n"
        "from airflow.providers.postgres.hooks.postgres import PostgresHook\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
        "WAREHOUSE = 'pg_wh'\n"
        "class LoadOperator(BaseOperator):\n"
        "    def __init__(self, table, conn_id=WAREHOUSE, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.table, self.conn_id = table, conn_id\n"
        "    def execute(self, context):\n"
        "        PostgresHook(postgres_conn_id=self.conn_id).get_records('SELECT 1')\n"
        "def refresh(name, conn_id=WAREHOUSE):\n"
        "    return SQLExecuteQueryOperator(task_id=name, conn_id=conn_id, sql='SELECT 1')\n"
    )
    (tmp_path / "load.py").write_text(
        "from airflow.sdk import DAG\n"
        "from include.operators import LoadOperator, refresh\n"
        "WAREHOUSE = 'pg_not_this_one'\n"
        "with DAG('load'):\n"
        "    for t in ['a', 'b']:\n"
        "        LoadOperator(task_id=f'load_{t}', table=t)\n"
        "    refresh('refresh_c')\n"
    )
    result = lint_paths([str(tmp_path / "load.py")], LintConfig(root=tmp_path))
    single = {f.task_id: f.message for f in result.findings if f.code == "SPF101"}
    assert set(single) == {"load_a", "load_b", "refresh_c"}
    assert all("'pg_wh'" in message for message in single.values())
