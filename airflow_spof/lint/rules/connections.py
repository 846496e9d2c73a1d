"""Rules about what a task connects to: one connection, one literal host."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Dag, Severity, Task
from airflow_spof.lint.rules import classify
from airflow_spof.lint.rules.base import Rule


def _single_connection(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    if classify.is_guard(task):  # a sensor is the availability check, not what it guards
        return
    connections = classify.conn_ids(task)
    if not connections or classify.has_fallback(task):
        return
    if dag.any_upstream(task.key, "availability-sensor", classify.is_availability_sensor):
        return
    single = [c for c in connections if not cfg.is_ha_connection(c)]
    if single:
        names = ", ".join(repr(c) for c in single)
        yield (
            f"task '{task.task_id}' depends on connection {names} alone: no replica set, "
            "failover operator or availability sensor"
        )


def _literal_host(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    hosts = classify.literal_hosts(task)
    if hosts:
        yield (
            f"task '{task.task_id}' talks to literal host {', '.join(repr(h) for h in hosts)}, "
            "bypassing Airflow connections"
        )


SINGLE_CONNECTION = Rule(
    code="SPF101",
    name="single-connection",
    severity=Severity.WARNING,
    summary="A task depends on one connection with no replica set or fallback.",
    rationale=(
        "When the only database, bucket or API a task names is down, the task fails and "
        "so does everything downstream; retries only wait for the outage to end. A replica "
        "set (`Replicas(...)`) or a failover operator gives the task somewhere else to go, "
        "and an upstream availability sensor at least turns a failure into a wait. "
        "Connections that are already highly available (a managed multi-AZ cluster behind "
        "one endpoint) can be listed in `ha-connections`. Sensors are not reported: they "
        "are the availability check."
    ),
    bad=(
        "load = SQLExecuteQueryOperator(\n"
        '    task_id="load", conn_id="pg_primary", sql="INSERT INTO t SELECT * FROM s"\n'
        ")"
    ),
    good=(
        'ORDERS = Replicas(sql("pg_use1", table="orders", key=["id"], region="us-east-1"),\n'
        '                  sql("pg_euw1", table="orders", key=["id"], region="eu-west-1"))\n'
        'load = FailoverSqlOperator(task_id="load", sources=ORDERS, sql="SELECT * FROM orders")'
    ),
    fix=(
        "Declare the replicas once with `Replicas(...)` and use a failover/replicated "
        "operator, or add the connection to `ha-connections` if it is HA already."
    ),
    scope="task",
    task_check=_single_connection,
)

LITERAL_HOST = Rule(
    code="SPF204",
    name="literal-host",
    severity=Severity.WARNING,
    summary="A host, IP or URL is written into task arguments instead of a connection.",
    rationale=(
        "A literal `remote_host`, IP address or URL pins the task to one machine and "
        "cannot be failed over without a code change and a deploy. A connection can be "
        "repointed at a standby in seconds, by the secrets backend or the UI, and keeps "
        "credentials out of the DAG file. Links in documentation and message arguments "
        "(`doc_md`, `owner_links`, `html_content`, `message`...), URLs a command only prints "
        "(`echo`), local sockets and the worker itself (`localhost`, `127.0.0.1`) are not "
        "reported."
    ),
    bad='SSHOperator(task_id="export", ssh_conn_id="ssh", remote_host="10.0.3.7", command="x")',
    good='SSHOperator(task_id="export", ssh_conn_id="ssh_export_vip", command="x")',
    fix=(
        "Move the host into an Airflow connection (ideally a virtual IP or DNS name with failover)."
    ),
    scope="task",
    task_check=_literal_host,
)
