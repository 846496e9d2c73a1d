"""Time to success with the primary region down: FailoverTransferOperator vs plain Airflow.

The plain pattern users build today: a primary task with retries, a fallback
task with ``trigger_rule="all_failed"`` and a join with ``one_success``. All
DAGs copy the same object from two S3 regions (separate moto processes; the
primary's process is killed, a real outage) to a directory, with the same
timeouts (1 s connect and read, one botocore attempt), under one real
``airflow standalone`` (scheduler, executor, API).

Variants of the native pattern:
- "default": ``retries=1`` with Airflow's default ``retry_delay`` (300 s) --
  the usual production setting (Airflow's ``default_task_retries`` is 0,
  but a primary task without retries is not a failover pattern anyone ships);
- "most favourable": ``retries=0``: the fallback starts as soon as the
  scheduler sees the primary fail.

Time to success = from the run's start to the end of the task that
delivered the data (the join for the native pattern); median of three
runs after one warm-up run per DAG (a fresh deployment's first run is
dominated by its own start-up). The 300 s variant runs once: its time is
the retry delay. Goal: >= 100x faster
than the default native pattern, and faster than the most favourable one.

    .venv/bin/python benchmarks/bench_failover_dag.py          # ~6 minutes (300 s retry delay)
    .venv/bin/python benchmarks/bench_failover_dag.py --quick  # skips the 300 s variant
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
from datetime import datetime
from pathlib import Path

from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.standalone import AirflowStandalone

DAGS = {
    "bench_spof": """
        from airflow.sdk import DAG
        from airflow_spof import Replicas, fs, s3
        from airflow_spof.operators import FailoverTransferOperator

        SOURCES = [s3("bench_use1", bucket="bench-use1", region="us-east-1"),
                   s3("bench_euw1", bucket="bench-euw1", region="eu-west-1")]
        with DAG("bench_spof", schedule=None, default_args={"retries": 0}):
            FailoverTransferOperator(
                task_id="copy", sources=SOURCES, key="data.csv",
                destination=Replicas(fs("{out}/spof", region="local"), write_consistency="one"),
                connect_timeout=1, read_timeout=1, attempts=1,
            )
    """,
    **{
        dag_id: """
        from pathlib import Path
        from botocore.config import Config
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.providers.standard.operators.python import PythonOperator
        from airflow.sdk import DAG

        CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})

        def copy(conn_id, bucket):
            data = S3Hook(aws_conn_id=conn_id, config=CONFIG).read_key("data.csv", bucket)
            Path("{out}/{dag_id}").mkdir(parents=True, exist_ok=True)
            Path("{out}/{dag_id}/data.csv").write_text(data)

        with DAG("{dag_id}", schedule=None, default_args={"retries": {retries}}):
            primary = PythonOperator(task_id="primary", python_callable=copy,
                                     op_args=["bench_use1", "bench-use1"])
            fallback = PythonOperator(task_id="fallback", python_callable=copy,
                                      op_args=["bench_euw1", "bench-euw1"],
                                      trigger_rule="all_failed")
            join = EmptyOperator(task_id="join", trigger_rule="one_success")
            primary >> fallback >> join
            primary >> join
        """.replace("{dag_id}", dag_id).replace("{retries}", str(retries))
        for dag_id, retries in (("bench_native_default", 1), ("bench_native_retries0", 0))
    },
}
ROUNDS = 3
DELIVERING_TASK = {
    "bench_spof": "copy",
    "bench_native_default": "join",
    "bench_native_retries0": "join",
}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def time_to_success(af: AirflowStandalone, dag_id: str, run_id: str, timeout: float) -> float:
    run = af.wait_for_run(dag_id, run_id, {"success"}, timeout=timeout)
    task = af.task_instance(dag_id, run_id, DELIVERING_TASK[dag_id])
    return (_ts(task["end_date"]) - _ts(run["start_date"])).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 300 s default-retry variant")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="spof-bench-dag-"))
    dags, out = work / "dags", work / "out"
    dags.mkdir()
    for dag_id, source in DAGS.items():
        if args.quick and dag_id == "bench_native_default":
            continue
        (dags / f"{dag_id}.py").write_text(textwrap.dedent(source).replace("{out}", str(out)))

    use1, euw1 = (
        MotoRegion(region_name="us-east-1").start(),
        MotoRegion(region_name="eu-west-1").start(),
    )
    try:
        for region, bucket in ((use1, "bench-use1"), (euw1, "bench-euw1")):
            region.create_bucket(bucket)
            region.client().put_object(Bucket=bucket, Key="data.csv", Body=b"id,v\n1,2\n")
        env = dict((use1.connection_env("bench_use1"), euw1.connection_env("bench_euw1")))
        use1.kill()  # the primary region is gone before any run starts

        results: dict[str, float] = {}
        with AirflowStandalone(dags, env=env) as af:
            dag_ids = [d for d in DAGS if (dags / f"{d}.py").exists()]
            for dag_id in dag_ids:
                af.wait_until_dag_parsed(dag_id)
                af.unpause(dag_id)
            slow_run = af.trigger("bench_native_default") if not args.quick else None
            for dag_id in ("bench_spof", "bench_native_retries0"):
                time_to_success(af, dag_id, af.trigger(dag_id), timeout=300)  # warm-up, not counted
                results[dag_id] = statistics.median(
                    time_to_success(af, dag_id, af.trigger(dag_id), timeout=300)
                    for _ in range(ROUNDS)
                )
            if slow_run is not None:
                results["bench_native_default"] = time_to_success(
                    af, "bench_native_default", slow_run, timeout=900
                )
    finally:
        use1.stop()
        euw1.stop()

    spof = results["bench_spof"]
    print(f"{'pattern':<52}{'time to success':>16}{'vs spof':>10}")
    labels = {
        "bench_spof": "FailoverTransferOperator",
        "bench_native_retries0": "native primary/fallback/join, retries=0 (favourable)",
        "bench_native_default": "native primary/fallback/join, retries=1, delay 300 s",
    }
    for dag_id, seconds in results.items():
        print(f"{labels[dag_id]:<52}{seconds:>14.2f} s{seconds / spof:>9.1f}x")
    print(
        "\nreproduce: .venv/bin/python benchmarks/bench_failover_dag.py"
        + (" --quick" if args.quick else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
