"""Every rule: one snippet that must fire and one that must stay silent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_spof.lint.config import LintConfig

Lint = Callable[..., list[Any]]

HEADER = """
from datetime import timedelta
from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow_spof import Replicas, s3, sql, fs
from airflow_spof.operators import FailoverSqlOperator
from airflow_spof.sensors import UpstreamAvailabilitySensor
OK = {"retries": 2, "execution_timeout": timedelta(minutes=30)}
"""


def test_spf101_single_connection_fires(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
with DAG("d", default_args=OK):
    SQLExecuteQueryOperator(task_id="q", conn_id="pg_main", sql="INSERT INTO a VALUES (1)")
""",
        codes=("SPF101",),
    )
    assert len(found) == 1 and "'pg_main'" in found[0].message and found[0].task_id == "q"


def test_spf101_silent_with_replicas_ha_or_sensor(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
R = Replicas(sql("pg_a", table="t", region="r1"), sql("pg_b", table="t", region="r2"))
with DAG("d", default_args=OK):
    FailoverSqlOperator(task_id="f", sources=R, sql="SELECT 1", conn_id="pg_a")
    SQLExecuteQueryOperator(task_id="ha", conn_id="snowflake_ha", sql="INSERT 1")
    w = UpstreamAvailabilitySensor(task_id="w", replicas=R)
    w >> SQLExecuteQueryOperator(task_id="guarded", conn_id="pg_x", sql="INSERT 1")
"""
    )
    cfg = LintConfig(root=tmp_path, ha_connections=["snowflake_*"])
    assert lint(source, codes=("SPF101",), cfg=cfg) == []


def test_spf102_shared_connection_and_location(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
A = Replicas(s3("aws", bucket="x", region="r1"), s3("aws", bucket="y", region="r2"))
B = Replicas(s3("a1", bucket="same", region="r1"), s3("a2", bucket="same", region="r2"))
C = Replicas(s3("only", bucket="one", region="r1"))
""",
        codes=("SPF102",),
    )
    messages = [f.message for f in found]
    assert len(found) == 3
    assert any("connection 'aws'" in m for m in messages)
    assert any("location 'same'" in m for m in messages)
    assert any("single endpoint" in m for m in messages)


def test_spf102_silent_for_distinct_endpoints(lint: Lint) -> None:
    assert (
        lint(
            HEADER
            + """
ORDERS = Replicas(
    s3("aws_use1", bucket="orders-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-euw1", region="eu-west-1"),
    fs("/mnt/nfs/orders", region="onprem"),
    write_consistency="quorum",
)
""",
            codes=("SPF102", "SPF103", "SPF104"),
        )
        == []
    )


def test_spf103_single_region_and_min_regions(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
A = Replicas(s3("a", bucket="x", region="us-east-1"), s3("b", bucket="y", region="us-east-1"))
B = Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),
             fs("/mnt/z", region="r2"), min_regions=3)
C = Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y"))
""",
        codes=("SPF103",),
    )
    assert [f.where.line for f in found] == [11, 12]


def test_spf104_write_all(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
A = Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),
             write_consistency="all")
B = Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),
             write_consistency=2)
C = Replicas(s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"),
             write_consistency=1)
""",
        codes=("SPF104",),
    )
    assert [f.where.line for f in found] == [11, 13]


def test_spf201_pinned_queue(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
with DAG("d", default_args=OK):
    BashOperator(task_id="a", bash_command="x", queue="gpu_box")
    BashOperator(task_id="b", bash_command="x", queue="legacy")
    BashOperator(task_id="c", bash_command="x", queue="etl")
    BashOperator(task_id="d", bash_command="x", queue="default")
    BashOperator(task_id="e", bash_command="x")
"""
    )
    cfg = LintConfig(root=tmp_path, queues={"legacy": 1, "etl": 3})
    found = lint(source, codes=("SPF201",), cfg=cfg)
    assert sorted(f.task_id or "" for f in found) == ["a", "b"]
    assert "does not know" in found[0].message and "1 worker" in found[1].message


def test_spf201_kubernetes_executors_give_each_task_a_pod(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
with DAG("d", default_args=OK):
    BashOperator(task_id="hybrid", bash_command="x", queue="kubernetes")
    BashOperator(task_id="multi", bash_command="x", queue="gpu_box",
                 executor="KubernetesExecutor")
    BashOperator(task_id="celery", bash_command="x", queue="gpu_box", executor="CeleryExecutor")
"""
    )
    found = lint(source, codes=("SPF201",), cfg=LintConfig(root=tmp_path))
    assert [f.task_id for f in found] == ["celery"]
    # a deployment without the hybrid executors says so; then "kubernetes" is a plain queue
    found = lint(source, codes=("SPF201",), cfg=LintConfig(root=tmp_path, kubernetes_queues=[]))
    assert sorted(f.task_id or "" for f in found) == ["celery", "hybrid"]


def test_spf202_pinned_node_selector_affinity_and_node_name(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from kubernetes.client import models as k8s
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
HOST_AFFINITY = {"node_affinity": {"required_during_scheduling_ignored_during_execution": {
    "node_selector_terms": [{"match_expressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-7"]}]}]}}}
with DAG("d", default_args=OK):
    BashOperator(task_id="a", bash_command="x", executor_config={"pod_override": k8s.V1Pod(
        spec=k8s.V1PodSpec(node_selector={"kubernetes.io/hostname": "ip-10-0-1-12"}))})
    KubernetesPodOperator(task_id="b", image="i", affinity=HOST_AFFINITY)
    KubernetesPodOperator(task_id="c", image="i", full_pod_spec=k8s.V1Pod(
        spec=k8s.V1PodSpec(node_name="worker-3")))
""",
        codes=("SPF202",),
    )
    assert sorted(f.task_id or "" for f in found) == ["a", "b", "c"]
    assert "'node-7'" in found[1].message


def test_spf202_silent_for_labels_and_preferred_affinity(lint: Lint) -> None:
    assert (
        lint(
            HEADER
            + """
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
PREFERRED = {"node_affinity": {"preferred_during_scheduling_ignored_during_execution": [
    {"weight": 1, "preference": {"match_expressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-7"]}]}}]}}
with DAG("d", default_args=OK):
    KubernetesPodOperator(task_id="b", image="i", affinity=PREFERRED,
                          node_selector={"node.kubernetes.io/instance-type": "m5.large"})
""",
            codes=("SPF202",),
        )
        == []
    )


def test_spf203_single_slot_pool(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
with DAG("d", default_args={**OK, "pool": "mutex"}):
    BashOperator(task_id="a", bash_command="x")
    BashOperator(task_id="b", bash_command="x", pool="wide")
    BashOperator(task_id="c", bash_command="x", pool="unknown_pool")
"""
    )
    cfg = LintConfig(root=tmp_path, pools={"mutex": 1, "wide": 8})
    found = lint(source, codes=("SPF203",), cfg=cfg)
    assert [f.task_id for f in found] == ["a"] and "from default_args" in found[0].message


def test_spf204_literal_hosts(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.providers.http.operators.http import HttpOperator
with DAG("d", default_args=OK):
    SSHOperator(task_id="a", ssh_conn_id="ssh", remote_host="db7.corp.local", command="x")
    BashOperator(task_id="b", bash_command="curl -s http://10.0.0.5:8080/export")
    HttpOperator(task_id="c", http_conn_id="api", endpoint="/v1/orders")
    BashOperator(task_id="d", bash_command="aws s3 cp s3://bucket/x /data/x")
    BashOperator(task_id="10.0.0.9", bash_command="date")  # a task named like an IP
""",
        codes=("SPF204",),
    )
    assert [f.task_id for f in found] == ["a", "b"]


def test_spf301_worker_local_handoff_taskflow_and_bash(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
import pandas as pd
OUT = "/tmp/orders"
with DAG("d", default_args=OK):
    @task
    def extract():
        pd.DataFrame().to_csv(f"{OUT}/orders.csv")
        return f"{OUT}/orders.csv"

    @task
    def load(path):
        return pd.read_csv(path)

    load(extract())
    dl = BashOperator(task_id="dl", bash_command="curl -o /tmp/x.json https://api.example.com")
    use = BashOperator(task_id="use", bash_command="python use.py /tmp/x.json")
    dl >> use
""",
        codes=("SPF301",),
    )
    assert sorted(f.task_id or "" for f in found) == ["load", "use"]


def test_spf301_silent_for_shared_mount_and_unrelated(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
with DAG("d", default_args=OK):
    a = BashOperator(task_id="a", bash_command="extract > /mnt/shared/x.csv")
    b = BashOperator(task_id="b", bash_command="load < /mnt/shared/x.csv")
    c = BashOperator(task_id="c", bash_command="report > /tmp/r.txt")
    d = BashOperator(task_id="d", bash_command="cat /tmp/other.txt")
    a >> b >> c >> d
    BashOperator(task_id="e", bash_command="cat < /tmp/r.txt")
"""
    )
    cfg = LintConfig(root=tmp_path, shared_paths=["/mnt/shared"])
    assert lint(source, codes=("SPF301",), cfg=cfg) == []


def test_spf302_unguarded_external_read(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
with DAG("d", default_args=OK):
    S3ToRedshiftOperator(task_id="copy", aws_conn_id="aws", redshift_conn_id="rs",
                         s3_bucket="b", s3_key="k", schema="s", table="t")
    wait = S3KeySensor(task_id="wait", bucket_key="s3://b/k2", aws_conn_id="aws",
                       deferrable=True, timeout=600)
    wait >> S3ToRedshiftOperator(task_id="copy2", aws_conn_id="aws", redshift_conn_id="rs",
                                 s3_bucket="b", s3_key="k2", schema="s", table="t")
    SQLExecuteQueryOperator(task_id="write_only", conn_id="pg", sql="DELETE FROM t")
    SQLExecuteQueryOperator(task_id="writes", conn_id="pg", sql=["DELETE FROM t", "VACUUM t"])
    SQLExecuteQueryOperator(task_id="reads", conn_id="pg", sql=["DELETE FROM t", "SELECT 1"])
""",
        codes=("SPF302",),
    )
    assert [f.task_id for f in found] == ["copy", "reads"]


def test_spf401_retries_after_default_args_resolution(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
BASE = dict(owner="x", retries=3)
ZERO = {**BASE, "retries": 0}
with DAG("a", default_args=BASE):
    BashOperator(task_id="ok", bash_command="x", execution_timeout=timedelta(minutes=1))
with DAG("b", default_args=ZERO):
    BashOperator(task_id="zero", bash_command="x")
with DAG("c"):
    BashOperator(task_id="none", bash_command="x")
    BashOperator(task_id="own", bash_command="x", retries=1)
""",
        codes=("SPF401",),
    )
    assert [f.task_id for f in found] == ["zero", "none"]
    assert "from default_args" in found[0].message


def test_spf402_no_execution_timeout(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.empty import EmptyOperator
with DAG("d", default_args={"retries": 1}):
    BashOperator(task_id="a", bash_command="x")
    BashOperator(task_id="b", bash_command="x", execution_timeout=timedelta(hours=1))
    BashOperator(task_id="c", bash_command="x", execution_timeout=None)
    EmptyOperator(task_id="start")
""",
        codes=("SPF402",),
    )
    assert [f.task_id for f in found] == ["a", "c"]


def test_spf403_poking_sensor(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.sensors.filesystem import FileSensor
with DAG("d", default_args=OK):
    FileSensor(task_id="default_poke", filepath="/x")
    FileSensor(task_id="long", filepath="/x", timeout=timedelta(hours=6))
    FileSensor(task_id="short", filepath="/x", timeout=300)
    FileSensor(task_id="resched", filepath="/x", mode="reschedule")
    FileSensor(task_id="deferred", filepath="/x", deferrable=True)
    UpstreamAvailabilitySensor(task_id="ours", replicas=None)
""",
        codes=("SPF403",),
    )
    assert [f.task_id for f in found] == ["default_poke", "long"]


def test_spf404_depends_on_past(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
with DAG("d", default_args={**OK, "depends_on_past": True}):
    BashOperator(task_id="a", bash_command="x")
    BashOperator(task_id="b", bash_command="x", depends_on_past=False)
    BashOperator(task_id="c", bash_command="x", depends_on_past=False, wait_for_downstream=True)
""",
        codes=("SPF404",),
    )
    assert [(f.task_id, "wait_for_downstream" in f.message) for f in found] == [
        ("a", False),
        ("c", True),
    ]


def test_spf001_syntax_error_is_a_finding_and_run_continues(lint: Lint, tmp_path) -> None:
    (tmp_path / "other.py").write_text(HEADER + "with DAG('x'):\n    BashOperator(task_id='t')\n")
    found = lint("with DAG('broken'\n    x = 1\n", name="broken.py")
    by_code = {f.code: f for f in found}
    assert by_code["SPF001"].where.line in (1, 2) and by_code["SPF001"].where.path.endswith(
        "broken.py"
    )
    from airflow_spof.lint.engine import lint_paths

    result = lint_paths([str(tmp_path)], LintConfig(root=tmp_path))
    assert {f.code for f in result.findings} >= {"SPF001", "SPF401"}


def test_spf102_same_table_on_different_connections_is_fine(lint: Lint) -> None:
    assert (
        lint(
            HEADER
            + """
W = Replicas(sql("wh_use1", table="orders", region="us-east-1"),
             sql("wh_euw1", table="orders", region="eu-west-1"))
""",
            codes=("SPF102",),
        )
        == []
    )


def test_task_group_default_args_apply_to_their_tasks(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
from airflow.sdk import TaskGroup, task_group
with DAG("d", default_args={"execution_timeout": timedelta(minutes=5)}):
    with TaskGroup("g", default_args={"retries": 3, "pool": "mutex"}):
        BashOperator(task_id="inside", bash_command="x")
        with TaskGroup("sub"):
            BashOperator(task_id="nested", bash_command="x")
    BashOperator(task_id="outside", bash_command="x")

    @task_group(default_args={"retries": 2})
    def deco():
        BashOperator(task_id="deco_task", bash_command="x")
    deco()
"""
    )
    cfg = LintConfig(root=tmp_path, pools={"mutex": 1})
    found = lint(source, codes=("SPF401", "SPF203"), cfg=cfg)
    assert sorted((f.code, f.task_id) for f in found) == [
        ("SPF203", "g.inside"),
        ("SPF203", "g.sub.nested"),
        ("SPF401", "outside"),
    ]


def test_unknown_task_default_args_keep_rules_silent(lint: Lint) -> None:
    source = (
        HEADER
        + """
from somewhere import ARGS
with DAG("d"):
    BashOperator(task_id="t", bash_command="x", default_args=ARGS)
"""
    )
    assert lint(source, codes=("SPF401", "SPF402")) == []


def test_default_args_set_on_the_dag_object_apply_to_later_tasks(lint: Lint) -> None:
    source = (
        HEADER
        + """
dag = DAG("d")
early = BashOperator(task_id="early", bash_command="x", dag=dag)
dag.default_args = {"retries": 2}
dag.default_args["execution_timeout"] = timedelta(minutes=5)
BashOperator(task_id="late", bash_command="x", dag=dag)
SHARED = {"retries": 1}
with DAG("e", default_args=SHARED) as e:
    e.default_args.update({"execution_timeout": timedelta(minutes=5)})
    BashOperator(task_id="in_e", bash_command="x")
with DAG("f", default_args=SHARED):
    BashOperator(task_id="in_f", bash_command="x")  # e's update did not touch SHARED
"""
    )
    found = lint(source, codes=("SPF401", "SPF402"))
    assert sorted((f.code, f.task_id) for f in found) == [
        ("SPF401", "early"),
        ("SPF402", "early"),
        ("SPF402", "in_f"),
    ]


def test_loops_over_dict_items_enumerate_and_zip_resolve_each_task(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
from airflow.sdk import Variable
QUEUES = {"orders": "solo", "crm": "etl"}
with DAG("d", default_args=OK):
    for name, queue in QUEUES.items():
        BashOperator(task_id=f"items_{name}", bash_command="x", queue=queue)
    for index, name in enumerate(sorted(QUEUES.keys())):
        BashOperator(task_id="enum_{}_{}".format(index, name), bash_command="x")
    for name, queue in zip(list(QUEUES), QUEUES.values()):
        BashOperator(task_id="zip_" + name, bash_command="x", queue=queue)
    BashOperator(task_id="fmt_{}_{!r}".format(Variable.get("v"), "x"), bash_command="x")
"""
    )
    cfg = LintConfig(root=tmp_path, queues={"solo": 1, "etl": 4})
    found = lint(source, codes=("SPF201",), cfg=cfg)
    assert sorted(f.task_id or "" for f in found) == ["items_orders", "zip_orders"]
    from airflow_spof.lint.engine import lint_paths

    result = lint_paths([str(tmp_path / "dag_file.py")], cfg)
    assert {"enum_0_crm", "enum_1_orders", "fmt_{?}_'x'"} <= set(result.modules[0].dags[0].tasks)


def test_spf301_templated_paths_are_compared_whole(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.sdk import Variable
RUN = Variable.get("run")
with DAG("d", default_args=OK):
    a = BashOperator(task_id="a", bash_command="extract > /tmp/{{ ds }}/a.csv")
    b = BashOperator(task_id="b", bash_command="load < /tmp/{{ ds }}/b.csv")
    c = BashOperator(task_id="c", bash_command="load < /tmp/{{ ds }}/a.csv")
    d = BashOperator(task_id="d", bash_command=f"extract > /tmp/{RUN}/d.csv")
    e = BashOperator(task_id="e", bash_command=f"load < /tmp/{RUN}/e.csv")
    a >> b >> c >> d >> e
""",
        codes=("SPF301",),
    )
    assert [(f.task_id, f.message.split("'")[3]) for f in found] == [("c", "/tmp/{{ ds }}/a.csv")]


def test_spf204_ignores_documentation_and_the_worker_itself(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.slack.operators.slack_webhook import SlackWebhookOperator
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
with DAG("d", default_args=OK):
    BashOperator(task_id="doc", bash_command="x", doc_md="Runbook: https://wiki.corp.example/r")
    PythonOperator(task_id="links", python_callable=print,
                   owner_links={"data": "https://github.com/org/repo"})
    BashOperator(task_id="local", bash_command="curl -f http://localhost:8080/health")
    BashOperator(task_id="loop", bash_command="psql -h 127.0.0.1 -p 5432")
    BashOperator(task_id="remote", bash_command="curl -f http://api.corp.example/health")
    BashOperator(task_id="echo", bash_command='echo "docs: https://airflow.apache.org/"')
    SlackWebhookOperator(task_id="slack", slack_webhook_conn_id="s", message="https://dash.x/d")
    EmailOperator(task_id="mail", to="a@b.c", subject="https://dash.x/d",
                  html_content="<a href='https://dash.x/d'>report</a>")
    DockerOperator(task_id="socket", image="i", docker_url="unix://var/run/docker.sock")
    DockerOperator(task_id="docker_host", image="i", docker_url="tcp://docker7.corp:2375")
    SparkSubmitOperator(task_id="spark", application="a.py",
                        conf={"spark.master": "k8s://https://k8s.corp:6443"})
""",
        codes=("SPF204",),
    )
    assert [f.task_id for f in found] == ["remote", "docker_host", "spark"]
    assert "'k8s.corp:6443'," in found[2].message


def test_branches_on_unknown_conditions_make_either_value_possible(lint: Lint, tmp_path) -> None:
    source = (
        HEADER
        + """
from airflow.sdk import Variable
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
from airflow.providers.standard.operators.empty import EmptyOperator
ENV = Variable.get("env")
DEBUG = False
with DAG("d", default_args=OK):
    if ENV == "prod":
        wait = S3KeySensor(task_id="wait", bucket_key="s3://b/k", deferrable=True, timeout=600)
    else:
        wait = EmptyOperator(task_id="wait")
    wait >> S3ToRedshiftOperator(task_id="copy", aws_conn_id="aws", redshift_conn_id="rs",
                                 s3_bucket="b", s3_key="k", schema="s", table="t")
    retries = 3
    if ENV == "dev":
        retries = 0
    BashOperator(task_id="maybe", bash_command="x", retries=retries)
    if DEBUG:
        BashOperator(task_id="debug_only", bash_command="x", retries=0)
    BashOperator(task_id="known", bash_command="x", retries=0 if DEBUG else 2,
                 queue=None or "solo")
    BashOperator(task_id="zero", bash_command="x", retries=0 if not DEBUG and ENV else 0)
if ENV == "prod":
    ARGS = {"retries": 3, "execution_timeout": timedelta(minutes=5)}
else:
    ARGS = {"retries": 0, "execution_timeout": timedelta(minutes=5), "pool": "p"}
with DAG("e", default_args=ARGS):
    BashOperator(task_id="either_args", bash_command="x")
if ENV == "prod":
    dag = DAG("prod_only")
else:
    dag = DAG("other")
BashOperator(task_id="no_timeout", bash_command="x", dag=dag, retries=1)
"""
    )
    cfg = LintConfig(root=tmp_path, queues={"solo": 1})
    found = lint(source, codes=("SPF302", "SPF401", "SPF402", "SPF201"), cfg=cfg)
    assert sorted((f.code, f.task_id) for f in found) == [
        ("SPF201", "known"),
        ("SPF401", "zero"),
        ("SPF402", "no_timeout"),
    ]


def test_one_task_built_two_ways_by_an_unknown_branch_keeps_its_id(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
import os
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
with DAG("d", default_args={"execution_timeout": timedelta(minutes=5)}):
    write = BashOperator(task_id="write", bash_command="extract > /tmp/x.csv", retries=1)
    if os.getenv("KUBERNETES"):
        run = KubernetesPodOperator(task_id="run", image="i", retries=2)
    else:
        run = BashOperator(task_id="run", bash_command="load < /tmp/x.csv")
    write >> run
    for i in range(2):
        BashOperator(task_id="dup", bash_command="x")  # a real duplicate: Airflow rejects it
"""
    )
    assert sorted((f.code, f.task_id, f.where.line) for f in found) == [
        ("SPF301", "run", 18),
        ("SPF401", "dup", 21),
        ("SPF401", "dup__1", 21),
        ("SPF401", "run", 18),
    ]
    assert "'write'" in found[0].message


def test_spf403_async_sensors_defer_by_design(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.sensors.time_delta import TimeDeltaSensorAsync
from airflow.sensors.date_time import DateTimeSensorAsync, DateTimeSensor
with DAG("d", default_args=OK):
    TimeDeltaSensorAsync(task_id="delta", delta=timedelta(hours=2))
    DateTimeSensorAsync(task_id="until", target_time="{{ data_interval_end }}")
    DateTimeSensor(task_id="poking", target_time="{{ data_interval_end }}")
""",
        codes=("SPF403",),
    )
    assert [f.task_id for f in found] == ["poking"]


def test_bash_decorator_commands_hooks_given_to_operators_and_xcomarg(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.sdk import XComArg
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.providers.ssh.hooks.ssh import SSHHook
with DAG("d", default_args=OK):
    @task.bash
    def extract() -> str:
        return "curl -sf -o /tmp/data.json http://10.1.2.3/export"

    @task.bash
    def load() -> str:
        return "load.sh < /tmp/data.json"

    extract() >> load()
    SSHOperator(task_id="hooked", command="ls",
                ssh_hook=SSHHook(ssh_conn_id="box", remote_host="db7.corp.local"))
    dump = BashOperator(task_id="dump", bash_command="pg_dump > /tmp/db.sql")

    @task
    def upload(_):
        with open("/tmp/db.sql") as fh:
            return fh.read()

    upload(XComArg(dump))
""",
        codes=("SPF101", "SPF204", "SPF301"),
    )
    assert sorted((f.code, f.task_id) for f in found) == [
        ("SPF101", "hooked"),
        ("SPF204", "extract"),
        ("SPF204", "hooked"),
        ("SPF301", "load"),
        ("SPF301", "upload"),
    ]


def test_spf301_reads_the_direction_of_nested_argument_names(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.python import PythonOperator
with DAG("d", default_args=OK):
    extract = PythonOperator(task_id="extract", python_callable=print,
                             op_kwargs={"output_path": "/tmp/data.csv"})
    load = PythonOperator(task_id="load", python_callable=print,
                          op_kwargs={"input_path": "/tmp/data.csv"})
    other = PythonOperator(task_id="other", python_callable=print,
                           op_kwargs={"path": "/tmp/data.csv"})
    extract >> load >> other
""",
        codes=("SPF301",),
    )
    assert [f.task_id for f in found] == ["load", "other"]


def test_dag_arguments_from_an_unknown_mapping_may_hold_default_args(lint: Lint) -> None:
    source = (
        HEADER
        + """
import yaml
from airflow.sdk import dag
CONFIG = yaml.safe_load(open("dag.yaml"))
with DAG(**CONFIG):
    BashOperator(task_id="a", bash_command="x")

@dag(**CONFIG)
def decorated():
    BashOperator(task_id="b", bash_command="x")
decorated()
with DAG("known", **{"schedule": None}):
    BashOperator(task_id="c", bash_command="x")

    @task(**CONFIG)
    def configured():
        pass

    configured()
"""
    )
    assert [f.task_id for f in lint(source, codes=("SPF401",))] == ["c"]


def test_mapped_and_overridden_tasks_with_unknown_arguments_stay_silent(lint: Lint) -> None:
    source = (
        HEADER
        + """
import yaml
COMMON = yaml.safe_load(open("task.yaml"))
with DAG("d", default_args={"execution_timeout": timedelta(minutes=5)}):
    BashOperator.partial(task_id="mapped", **COMMON).expand(bash_command=["a", "b"])

    @task
    def run():
        pass

    run.override(**COMMON)()
    BashOperator.partial(task_id="known").expand(bash_command=["a"])
"""
    )
    assert [f.task_id for f in lint(source, codes=("SPF401",))] == ["known"]


def test_tasks_collected_with_list_append_keep_their_edges(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.empty import EmptyOperator
with DAG("d", default_args=OK):
    start = BashOperator(task_id="start", bash_command="extract > /tmp/all.csv")
    loads = []
    for table in ["a", "b"]:
        loads.append(BashOperator(task_id=f"load_{table}", bash_command="load < /tmp/all.csv"))
    later = []
    later.extend([BashOperator(task_id="late", bash_command="load < /tmp/all.csv")])
    later.insert(0, EmptyOperator(task_id="first"))
    start >> loads
    loads[-1] >> later
""",
        codes=("SPF301",),
    )
    assert sorted(f.task_id or "" for f in found) == ["late", "load_a", "load_b"]


def test_rules_skipped_for_tasks_without_the_arguments_they_need_lose_nothing(
    lint: Lint, tmp_path, monkeypatch
) -> None:
    """``Rule.needs`` only saves calls: clearing it finds exactly the same."""
    import dataclasses

    from airflow_spof.lint import checks

    source = (
        HEADER
        + """
from kubernetes.client import models as k8s
with DAG("d", default_args={**OK, "depends_on_past": True}):
    BashOperator(task_id="q", bash_command="x", queue="gpu-box", pool="mutex")
    BashOperator(task_id="n", bash_command="x", executor_config={"pod_override": k8s.V1Pod(
        spec=k8s.V1PodSpec(node_selector={"kubernetes.io/hostname": "node-7"}))})
    BashOperator(task_id="w", bash_command="x", wait_for_downstream=True)
    BashOperator(task_id="plain", bash_command="x")
"""
    )
    cfg = LintConfig(root=tmp_path, pools={"mutex": 1})
    found = lint(source, cfg=cfg)
    gated = {r.code for r in checks.RULES if r.needs}
    assert gated == {f.code for f in found if f.code in gated}  # each gated rule fired
    ungated = tuple(dataclasses.replace(r, needs=frozenset()) for r in checks.RULES)
    monkeypatch.setattr(checks, "RULES", ungated)
    assert lint(source, cfg=cfg) == found


def test_spf101_leaves_sensors_alone(lint: Lint) -> None:
    """A sensor is the availability check itself: "add an availability sensor" is no fix."""
    found = lint(
        HEADER
        + """
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.common.sql.sensors.sql import SqlSensor
with DAG("d", default_args=OK):
    S3KeySensor(task_id="s3", bucket_key="s3://b/k", aws_conn_id="aws", deferrable=True)
    SqlSensor(task_id="sql", conn_id="pg", sql="SELECT 1", mode="reschedule")

    @task.sensor(poke_interval=60, timeout=600, mode="reschedule")
    def ready():
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        return PostgresHook(postgres_conn_id="pg_flow").get_first("SELECT 1")

    ready()
    SQLExecuteQueryOperator(task_id="load", conn_id="pg", sql="INSERT INTO t VALUES (1)")
""",
        codes=("SPF101",),
    )
    assert [f.task_id for f in found] == ["load"]


def test_spf403_trigger_dag_run_waiting_in_a_worker_slot(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
with DAG("d", default_args=OK):
    TriggerDagRunOperator(task_id="waits", trigger_dag_id="child", wait_for_completion=True)
    TriggerDagRunOperator(task_id="defers", trigger_dag_id="child", wait_for_completion=True,
                          deferrable=True)
    TriggerDagRunOperator(task_id="fire_and_forget", trigger_dag_id="child")
""",
        codes=("SPF403",),
    )
    assert [f.task_id for f in found] == ["waits"]
    assert "wait_for_completion=True" in found[0].message


def test_spf101_connections_passed_to_a_taskflow_function(lint: Lint) -> None:
    """``load("pg_main")`` names the connection the body opens with its parameter."""
    found = lint(
        HEADER
        + """
from airflow.sdk import BaseHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from somewhere import unknown

@task
def load(conn_id: str, table: str = "t"):
    PostgresHook(postgres_conn_id=conn_id).run(f"INSERT INTO {table} VALUES (1)")

@task
def fetch(source):
    return BaseHook.get_connection(source).host

with DAG("d", default_args=OK):
    for conn in ["pg_a", "pg_a", "pg_b"]:
        load(conn)
    load(conn_id=unknown)
    fetch("api_main")
""",
        codes=("SPF101",),
    )
    named = {f.task_id: f.message.split("'")[3] for f in found}
    assert named == {"load": "pg_a", "load__1": "pg_a", "load__2": "pg_b", "fetch": "api_main"}


def test_spf204_versions_are_not_addresses(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
with DAG("d", default_args=OK):
    BashOperator(task_id="pins", bash_command="pip install lib==1.2.3.4 other>=10.0.0.1")
    BashOperator(task_id="tag", bash_command="deploy --version 2.10.0.3 --tag v1.2.3.4")
    BashOperator(task_id="host", bash_command="psql --host=10.1.2.3 -c 'select 1'")
    BashOperator(task_id="ssh", bash_command="ssh 192.168.7.20 uptime")
""",
        codes=("SPF204",),
    )
    assert [f.task_id for f in found] == ["host", "ssh"]


def test_literal_lists_given_to_expand_are_checked(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
with DAG("d", default_args=OK):
    fetch = BashOperator.partial(task_id="fetch").expand(
        bash_command=["curl -o /tmp/a.csv http://10.0.0.7/a", "echo see http://docs.example.com"]
    )
    fetch >> BashOperator(task_id="use", bash_command="load < /tmp/a.csv")
    SQLExecuteQueryOperator.partial(task_id="each", sql="INSERT 1").expand(conn_id=["pa", "pb"])
""",
        codes=("SPF101", "SPF204", "SPF301"),
    )
    assert {(f.code, f.task_id) for f in found} == {("SPF204", "fetch"), ("SPF301", "use")}
    assert "'10.0.0.7'" in next(f.message for f in found if f.code == "SPF204")


def test_expand_kwargs_maps_runs_not_the_first_parameter(lint: Lint) -> None:
    """``.expand_kwargs(...)`` gives each mapped run its keyword arguments: a literal list of
    dicts is checked like ``.expand``'s lists, and it never fills the first parameter."""
    found = lint(
        HEADER
        + """
from airflow.providers.postgres.hooks.postgres import PostgresHook
with DAG("d", default_args=OK):
    @task
    def runs():
        return [{"table": "a"}]

    @task
    def load(conn_id, table=None):
        PostgresHook(postgres_conn_id=conn_id).run(f"COPY {table}")

    load.partial(conn_id="pg_z").expand_kwargs(runs())
    BashOperator.partial(task_id="k").expand_kwargs(
        [{"bash_command": "curl http://10.0.0.8/x"}, {"bash_command": "echo hi"}])
""",
        codes=("SPF101", "SPF204"),
    )
    assert {(f.code, f.task_id) for f in found} == {("SPF101", "load"), ("SPF204", "k")}
    assert "'pg_z'" in found[0].message and "'10.0.0.8'" in found[1].message


def test_python_operator_callables_are_read_like_taskflow_bodies(lint: Lint) -> None:
    """Airflow 2's PythonOperator: what its callable connects to, reads and writes is the
    task's, as for a ``@task`` body (with ``op_kwargs`` filling its parameters)."""
    found = lint(
        HEADER
        + """
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook

def extract(**context):
    rows = PostgresHook(postgres_conn_id="pg_src").get_records("SELECT * FROM t")
    with open("/tmp/extract.csv", "w") as f:
        f.write(str(rows))

def load(conn_id, **context):
    data = open("/tmp/extract.csv").read()
    PostgresHook(postgres_conn_id=conn_id).run("INSERT INTO t2 VALUES (1)")

def tidy():
    return 1

@task
def pull():
    return PostgresHook(postgres_conn_id="pg_flow").get_records("SELECT 1")

with DAG("d", default_args=OK):
    pull()
    e = PythonOperator(task_id="extract", python_callable=extract)
    l = PythonOperator(task_id="load", python_callable=load, op_kwargs={"conn_id": "pg_dst"})
    e >> l >> PythonOperator(task_id="tidy", python_callable=tidy)
""",
        codes=("SPF101", "SPF301", "SPF302"),
    )
    assert {(f.code, f.task_id) for f in found} == {
        ("SPF101", "extract"),
        ("SPF101", "load"),
        ("SPF302", "extract"),
        ("SPF301", "load"),
        ("SPF101", "pull"),
        ("SPF302", "pull"),  # a method of a hook made in place is still a read
    }
    single = {f.task_id: f.message for f in found if f.code == "SPF101"}
    assert "'pg_dst'" in single["load"]


def test_functools_partial_callables_and_factories_are_read(lint: Lint) -> None:
    """``python_callable=partial(f, "pg_x")``: f's body with the arguments partial gives;
    a factory bound with partial and called later still makes its tasks."""
    found = lint(
        HEADER
        + """
import functools
from functools import partial
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook

def export(conn_id, table):
    PostgresHook(postgres_conn_id=conn_id).get_records(f"SELECT * FROM {table}")

def step(prefix, name):
    return BashOperator(task_id=f"{prefix}_{name}", bash_command="curl http://10.0.0.9/")

with DAG("d", default_args=OK):
    PythonOperator(task_id="a", python_callable=partial(export, "pg_a", "t"))
    PythonOperator(task_id="b", python_callable=functools.partial(export, conn_id="pg_b"))
    make = partial(step, "nightly")
    make("sync")
""",
        codes=("SPF101", "SPF204"),
    )
    assert {(f.code, f.task_id) for f in found} == {
        ("SPF101", "a"),
        ("SPF101", "b"),
        ("SPF204", "nightly_sync"),
    }
    single = {f.task_id: f.message for f in found if f.code == "SPF101"}
    assert "'pg_a'" in single["a"] and "'pg_b'" in single["b"]


def test_custom_operators_execute_is_read_with_each_tasks_attributes(lint: Lint) -> None:
    """A custom operator's ``execute`` is the task's own doing: ``self.conn_id`` is what
    ``__init__`` set from that task's arguments (or the default), or a class attribute."""
    found = lint(
        HEADER
        + """
from airflow.sdk import BaseOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook

class ExportOperator(BaseOperator):
    def __init__(self, table, conn_id="warehouse", **kwargs):
        super().__init__(**kwargs)
        self.table, self.conn_id = table, conn_id

    def execute(self, context):
        PostgresHook(postgres_conn_id=self.conn_id).get_records(f"SELECT * FROM {self.table}")

class AuditOperator(ExportOperator):
    pass

class PingOperator(BaseOperator):
    target = "pg_ping"

    def execute(self, context):
        PostgresHook.get_connection(self.target)

class NoteOperator(BaseOperator):
    def execute(self, context):
        print("done")

with DAG("d", default_args=OK):
    ExportOperator(task_id="orders", table="orders")
    ExportOperator(task_id="users", table="users", conn_id="pg_replica")
    AuditOperator(task_id="audit", table="log", conn_id="pg_audit")
    PingOperator(task_id="ping")
    NoteOperator(task_id="note")
""",
        codes=("SPF101", "SPF302"),
    )
    single = {f.task_id: f.message for f in found if f.code == "SPF101"}
    assert set(single) == {"orders", "users", "audit", "ping"}
    assert "'warehouse'" in single["orders"] and "'pg_replica'" in single["users"]
    assert "'pg_audit'" in single["audit"] and "'pg_ping'" in single["ping"]
    assert {f.task_id for f in found if f.code == "SPF302"} == {"orders", "users", "audit", "ping"}


def test_custom_operators_init_and_helper_methods_count_too(lint: Lint) -> None:
    """A hook built in ``__init__`` from a parameter, and helpers ``execute`` calls on
    ``self``, are the task's too; a method nothing calls is not."""
    found = lint(
        HEADER
        + """
import requests
from airflow.sdk import BaseHook, BaseOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook

class SyncOperator(BaseOperator):
    def __init__(self, source_conn_id="pg_src", **kwargs):
        super().__init__(**kwargs)
        self.hook = PostgresHook(postgres_conn_id=source_conn_id)

    def execute(self, context):
        self._push(self._fetch())

    def _fetch(self):
        return self.hook.get_records("SELECT 1")

    def _push(self, rows):
        requests.post("http://10.0.0.12/api", json=rows)

    def unused(self):
        BaseHook.get_connection("pg_never")

with DAG("d", default_args=OK):
    SyncOperator(task_id="sync")
    SyncOperator(task_id="other", source_conn_id="pg_other")
""",
        codes=("SPF101", "SPF204", "SPF302"),
    )
    assert {(f.code, f.task_id) for f in found} == {
        (code, task) for code in ("SPF101", "SPF204", "SPF302") for task in ("sync", "other")
    }
    single = {f.task_id: f.message for f in found if f.code == "SPF101"}
    assert "'pg_src'" in single["sync"] and "'pg_other'" in single["other"]
    assert not any("pg_never" in f.message for f in found)


def test_lambdas_given_as_callables_are_read(lint: Lint) -> None:
    found = lint(
        HEADER
        + """
from airflow.sdk import BaseHook
from airflow.providers.standard.operators.python import PythonOperator
with DAG("d", default_args=OK):
    PythonOperator(task_id="fetch", python_callable=lambda: BaseHook.get_connection("pg_l"))
    PythonOperator(task_id="quiet", python_callable=lambda **context: context["ds"])
    make = lambda name: BashOperator(task_id=name, bash_command="curl http://10.1.1.1/x")
    make("made")
""",
        codes=("SPF101", "SPF204"),
    )
    assert {(f.code, f.task_id) for f in found} == {("SPF101", "fetch"), ("SPF204", "made")}
