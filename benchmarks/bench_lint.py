"""Lint speed: 1,000 generated DAG files, compared with ruff (AIR rules) and Airflow's DagBag.

Run: .venv/bin/python benchmarks/bench_lint.py [--files 1000] [--repeat 5] [--dagbag-repeat 3]

All three tools are timed the same way, as a user (pre-commit, a CI job) pays for them: one
whole process from start to exit, interpreter start-up and imports included, cold (no
result cache), fastest of N runs. DagBag loads the whole corpus for real in each run; the
time of its ``DagBag(...)`` call alone (without ``import airflow``) is printed as well.
Load average is printed because the machine is shared.

The machine's speed drifts within a run (a shared VM host), and the fastest-of-N figures
of two tools timed a minute apart can meet different speeds. ``--pairs`` rounds of
lint, DagBag, lint (text, default jobs) give a ratio per round from neighbouring runs,
DagBag's wall over the mean of the two lint runs around it; their median is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent

STYLE_1X = """
from datetime import datetime, timedelta
from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator

default_args = {{"owner": "etl", "start_date": datetime(2020, 1, 1), "retries": {retries}}}
default_args.update({{"retry_delay": timedelta(minutes=5)}})
dag = DAG("legacy_{n}", default_args=default_args, schedule="@daily")

def work(**kwargs):
    return kwargs

prev = None
for i in range({size}):
    t = BashOperator(task_id="step_%d" % i, bash_command="echo {n} > /tmp/out_{n}.txt", dag=dag)
    p = PythonOperator(task_id="py_%d" % i, python_callable=work, dag=dag)
    t.set_downstream(p)
    if prev is not None:
        prev >> t
    prev = p
"""

STYLE_2X = """
from datetime import timedelta
import pendulum
from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import TaskGroup, chain

BASE = dict(owner="dw", retries=2, execution_timeout=timedelta(hours=1))
ARGS = {{**BASE, "queue": "etl", "pool": "warehouse"}}
TABLES = {tables}

with DAG("warehouse_{n}", default_args=ARGS, start_date=pendulum.datetime(2023, 1, 1),
         schedule="@hourly", catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    wait = S3KeySensor(task_id="wait", bucket_key="s3://exports/{{{{ ds }}}}/done",
                       aws_conn_id="aws_exports", mode="reschedule", timeout=3600)
    with TaskGroup("refresh") as refresh:
        for table in TABLES:
            SQLExecuteQueryOperator(task_id=f"refresh_{{table}}", conn_id="pg_dw_{n}",
                                    sql=f"SELECT refresh('{{table}}')")
    mapped = SQLExecuteQueryOperator.partial(task_id="vacuum", conn_id="pg_dw_{n}").expand(
        sql=[f"VACUUM {{t}}" for t in TABLES])
    chain(start, wait, refresh, mapped)
"""

STYLE_3X = """
from datetime import timedelta
import pandas as pd
from airflow.sdk import dag, task
from airflow_spof import Replicas, s3, fs
from airflow.providers.standard.operators.bash import BashOperator

ORDERS = Replicas(
    s3("aws_use1", bucket="orders-use1-{n}", region="us-east-1"),
    s3("aws_euw1", bucket="orders-euw1-{n}", region="eu-west-1"),
    fs("/mnt/nfs/orders_{n}", region="onprem"),
    write_consistency="quorum",
)

@dag(dag_id="orders_{n}", default_args={{"retries": 3, "execution_timeout": timedelta(minutes=30)}},
     schedule="@daily")
def orders():
    @task
    def extract() -> str:
        pd.DataFrame({{"id": [1]}}).to_parquet("/tmp/orders_{n}.parquet")
        return "/tmp/orders_{n}.parquet"

    @task
    def transform(path: str) -> str:
        return pd.read_parquet(path).to_json()

    @task.sensor(poke_interval=60, timeout=600, mode="reschedule")
    def ready() -> bool:
        return True

    write = BashOperator(task_id="write", bash_command="echo {{{{ ti.xcom_pull() }}}}")
    results = [transform.override(task_id=f"transform_{{i}}")(extract()) for i in range({size})]
    ready() >> write
    results >> write

orders()
"""


def generate(folder: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` DAG files mixing 1.x, 2.x and 3.x styles and sizes (1 to 40 tasks)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        style = n % 3
        size = rng.choice([1, 2, 5, 10, 20])
        if style == 0:
            text = STYLE_1X.format(n=n, size=size, retries=rng.choice([0, 1, 3]))
        elif style == 1:
            tables = [f"t{i}" for i in range(size)]
            text = STYLE_2X.format(n=n, tables=tables)
        else:
            text = STYLE_3X.format(n=n, size=size)
        (folder / f"dag_{n:04d}.py").write_text(textwrap.dedent(text), encoding="utf-8")


@dataclass
class Run:
    """One child process: wall time (incl. interpreter start) and its CPU time."""

    wall: float
    cpu: float
    done: subprocess.CompletedProcess[str]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(wall, cpu, done)


def best_of(cmd: list[str], repeat: int, env: dict[str, str]) -> tuple[Run, float]:
    """The fastest of ``repeat`` runs (least disturbed by other load) and the median wall."""
    runs = [timed(cmd, env) for _ in range(repeat)]
    walls = sorted(r.wall for r in runs)
    return min(runs, key=lambda r: r.wall), walls[len(walls) // 2]


def lint_wall(cmd: list[str], env: dict[str, str]) -> float:
    """One lint run's wall time; a crash (exit code other than 0 or 1) stops the benchmark."""
    run = timed(cmd, env)
    if run.done.returncode not in (0, 1):
        raise SystemExit(f"airflow-spof lint failed:\n{run.done.stderr}")
    return run.wall


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


DAGBAG_PROBE = (
    "import sys, time\n"
    "from airflow.dag_processing.dagbag import DagBag\n"
    "start, cpu = time.perf_counter(), time.process_time()\n"
    "bag = DagBag(dag_folder=sys.argv[1])\n"
    "print(len(bag.dag_ids), len(bag.import_errors), time.perf_counter() - start,\n"
    "      time.process_time() - cpu)\n"
)


def run_dagbag(folder: Path, work: Path) -> tuple[Run, float, float, str]:
    """One DagBag load of ``folder``: the whole child's wall/CPU (incl. ``import airflow``),
    then the wall and CPU time of the ``DagBag(...)`` call alone."""
    home = work / "airflow_home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__SPOF__LINT_POLICY_MODE": "off",
    }
    run = timed([sys.executable, "-c", DAGBAG_PROBE, str(folder)], env)
    if run.done.returncode != 0:
        raise SystemExit(f"DagBag run failed:\n{run.done.stderr[-2000:]}")
    dags, errors, parse, parse_cpu = run.done.stdout.split()[-4:]
    return run, float(parse), float(parse_cpu), f"{dags} DAGs, {errors} import errors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="lint runs per setting; the fastest is reported"
    )
    parser.add_argument(
        "--dagbag-repeat", type=int, default=3, help="DagBag loads; the fastest is reported"
    )
    parser.add_argument(
        "--pairs", type=int, default=4, help="interleaved lint/DagBag/lint rounds (0: none)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_lint_"))
    try:
        corpus = work / "dags"
        generate(corpus, args.files)
        lines = sum(p.read_text().count("\n") for p in corpus.glob("*.py"))
        load_before = load()
        lint = [str(BIN / "airflow-spof"), "lint", str(corpus), "--format", "json"]
        # As installed by pip (what pre-commit runs): bytecode compiled once, then reused.
        # Kept out of the repo in a private prefix; the untimed warm-up run writes it.
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(work / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        warm_up = timed(lint, env)
        results: dict[str, tuple[Run, float]] = {}
        settings: tuple[tuple[str, list[str]], ...] = (
            ("default --jobs (auto)", []),
            ("--jobs 1", ["--jobs", "1"]),
            # pre-commit's default output is text (--format json above is for counting).
            ("text, --jobs (auto)", ["--format", "text"]),
            ("text, --jobs 1", ["--format", "text", "--jobs", "1"]),
        )
        for label, extra in settings:
            results[label] = best_of([*lint, *extra], args.repeat, env)
            done = results[label][0].done
            if done.returncode not in (0, 1):
                raise SystemExit(f"airflow-spof lint failed:\n{done.stderr}")
        findings = len(json.loads(results["default --jobs (auto)"][0].done.stdout))
        ruff = timed(
            [
                str(BIN / "ruff"),
                "check",
                "--select",
                "AIR",
                "--no-cache",
                "--exit-zero",
                "--isolated",
                str(corpus),
            ]
        )
        bag, bag_parse, bag_parse_cpu, bag_note = min(
            (run_dagbag(corpus, work) for _ in range(args.dagbag_repeat)),
            key=lambda r: r[0].wall,
        )
        rounds = []
        for _ in range(args.pairs):
            before = lint_wall([*lint, "--format", "text"], env)
            between = run_dagbag(corpus, work)[0].wall
            after = lint_wall([*lint, "--format", "text"], env)
            rounds.append((between, before, after))
        load_after = load()
        ours, text = results["default --jobs (auto)"][0], results["text, --jobs (auto)"][0]
        print(f"corpus: {args.files} files, {lines} lines (1.x/2.x/3.x styles, 1-40 tasks each)")
        print(f"load average: before {load_before}; after {load_after}")
        print("whole process, start to exit, fastest of N:")
        for label, (run, median) in results.items():
            print(
                f"  airflow-spof lint {label:22s}: {run.wall:6.2f} s wall (median {median:.2f} s "
                f"of {args.repeat}), {run.cpu:5.2f} s CPU, {args.files / run.wall:6.0f} files/s"
            )
        print(
            f"    ({findings} findings; bytecode cached as after pip install; the untimed "
            f"warm-up run that compiled it took {warm_up.wall:.2f} s)"
        )
        print(f"  ruff check --select AIR  : {ruff.wall:6.2f} s wall, {ruff.cpu:5.2f} s CPU")
        print(
            f"  DagBag ({args.files} files)     : {bag.wall:6.2f} s wall, {bag.cpu:5.2f} s CPU, "
            f"fastest of {args.dagbag_repeat} ({bag_note}); the DagBag(...) call alone: "
            f"{bag_parse:.2f} s wall, {bag_parse_cpu:.2f} s CPU"
        )
        print("DagBag / airflow-spof lint, wall:")
        for label, run in (("text", text), ("json", ours)):
            print(
                f"  {label}: {bag.wall / run.wall:5.1f}x whole process vs whole process; "
                f"{bag_parse / run.wall:5.1f}x DagBag(...) call alone vs our whole process"
            )
        if rounds:
            ratios = sorted(bag_wall / ((a + b) / 2) for bag_wall, a, b in rounds)
            shown = ", ".join(
                f"{bag_wall:.2f} s / ({a:.2f} + {b:.2f} s)/2" for bag_wall, a, b in rounds
            )
            middle = statistics.median(ratios)
            print(
                f"  interleaved lint/DagBag/lint rounds (text): median {middle:5.1f}x "
                f"(each: {', '.join(f'{r:.1f}x' for r in ratios)}; {shown})"
            )
        print(f"airflow-spof lint (json) / ruff, wall: {ours.wall / ruff.wall:5.1f}x")
        print(
            f"reproduce: {sys.executable} benchmarks/bench_lint.py --files {args.files} "
            f"--repeat {args.repeat} --dagbag-repeat {args.dagbag_repeat} --pairs {args.pairs}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
