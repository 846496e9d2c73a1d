"""Rules that follow data between tasks: local-disk handoffs, unguarded reads."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Dag, Severity, Task
from airflow_spof.lint.rules import classify
from airflow_spof.lint.rules.base import Rule


def _local_handoff(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    reads = [
        p.path
        for p in task.paths
        if p.mode in {"read", "unknown"} and classify.is_local_path(p.path, cfg.shared_paths)
    ]
    if not reads:
        return
    reported: set[str] = set()
    for upstream_id in sorted(dag.ancestors(task.key)):
        upstream = dag.tasks[upstream_id]
        for written in upstream.paths:
            if written.mode not in {"write", "unknown"}:
                continue
            for read in reads:
                if read in reported or not classify.same_location(written.path, read):
                    continue
                if (
                    written.mode == "unknown"
                    and read in {p.path for p in task.paths if p.mode == "unknown"}
                    and not _clear_write(upstream, written.path)
                ):
                    continue
                reported.add(read)
                yield (
                    f"task '{task.task_id}' reads '{read}' written by upstream task "
                    f"'{upstream.task_id}' on its worker's local disk: it only works when both "
                    "run on the same machine"
                )


def _clear_write(task: Task, path: str) -> bool:
    return any(p.mode == "write" and p.path == path for p in task.paths)


def _unguarded_read(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    if not classify.reads_external(task) or classify.has_fallback(task):
        return
    if dag.any_upstream(task.key, "guard", classify.is_guard):
        return
    yield (
        f"task '{task.task_id}' reads from an external system with no availability sensor "
        "upstream and no fallback: an outage fails the run instead of waiting or failing over"
    )


LOCAL_HANDOFF = Rule(
    code="SPF301",
    name="worker-local-handoff",
    severity=Severity.ERROR,
    summary="A task writes a local path (for example under /tmp) that a downstream task reads.",
    rationale=(
        "Tasks of one DAG run may run on different workers, pods or retries on a new "
        "machine. A file left on one worker's disk is invisible to the next task elsewhere; "
        "it works on a laptop and with one worker, then fails (or reads stale data) as soon "
        "as the deployment scales out, and a lost worker loses the data with it."
    ),
    bad=(
        '@task\ndef extract():\n    df.to_csv("/tmp/orders.csv")\n    return "/tmp/orders.csv"\n\n'
        "@task\ndef load(path):\n    pd.read_csv(path)\n\nload(extract())"
    ),
    good=(
        '@task\ndef extract():\n    ReplicatedHook(ORDERS).write("orders.csv", data)\n'
        '    return "orders.csv"\n\n@task\ndef load(key):\n    ReplicatedHook(ORDERS).read(key)'
    ),
    fix=(
        "Hand data over through object storage, a database or a replica set "
        "(XCom for small values)."
    ),
    scope="task",
    task_check=_local_handoff,
)

UNGUARDED_READ = Rule(
    code="SPF302",
    name="unguarded-external-read",
    severity=Severity.WARNING,
    summary="An external read has no availability sensor and no fallback upstream of it.",
    rationale=(
        "A transfer, query or HTTP GET against a source that is down fails the task "
        "half-way through the run and burns its retries. A sensor upstream (deferrable, so "
        "it holds no worker slot) waits for the source instead, and a failover operator "
        "reads from another replica."
    ),
    bad='S3ToRedshiftOperator(task_id="copy", aws_conn_id="aws", redshift_conn_id="rs", ...)',
    good=(
        'wait = UpstreamAvailabilitySensor(task_id="wait", replicas=ORDERS)\n'
        'wait >> S3ToRedshiftOperator(task_id="copy", aws_conn_id="aws",\n'
        '                             redshift_conn_id="rs", ...)'
    ),
    fix="Put a deferrable availability sensor upstream, or read through a failover operator.",
    scope="task",
    task_check=_unguarded_read,
)
