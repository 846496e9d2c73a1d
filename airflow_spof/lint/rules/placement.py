"""Rules about where a task may run: queue, node, pool."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Dag, PartialStr, Severity, Task
from airflow_spof.lint.rules import classify
from airflow_spof.lint.rules.base import Rule

_POD_KWARGS = ("executor_config", "node_selector", "affinity", "full_pod_spec", "pod_template_dict")
"""Where a pod spec can pin a node, in the order they are reported."""


def _pinned_queue(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    queue = task.get("queue")
    if not isinstance(queue, str) or isinstance(queue, PartialStr) or not queue:
        return
    if queue in cfg.kubernetes_queues or _on_kubernetes_executor(task):
        return  # a pod per task, placed by Kubernetes: no worker to lose
    workers = cfg.queues.get(queue)
    if workers is None:
        if queue == cfg.default_queue:
            return
        yield (
            f"task '{task.task_id}' is pinned to queue '{queue}'{task.origin('queue')}, which the "
            "config does not know: add it under [tool.airflow-spof.lint.queues] with its "
            "worker count"
        )
    elif workers < 2:
        yield (
            f"task '{task.task_id}' is pinned to queue '{queue}'{task.origin('queue')}, served by "
            f"{workers} worker(s): that worker is a single point of failure"
        )


def _on_kubernetes_executor(task: Task) -> bool:
    """``executor="KubernetesExecutor"`` (Airflow's multiple executors): queues do not route."""
    executor = task.get("executor")
    return isinstance(executor, str) and "KubernetesExecutor" in executor


def _pinned_node(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    hosts: list[str] = []
    for key in _POD_KWARGS:
        value = task.kwargs.get(key)
        if value is None:
            continue
        if key == "node_selector":
            value = {"node_selector": value}
        hosts.extend(classify.pinned_hosts(value))
    if hosts:
        yield (
            f"task '{task.task_id}' can only run on node "
            f"{', '.join(repr(h) for h in dict.fromkeys(hosts))}: "
            "if that node is drained or lost the task never starts"
        )


def _single_slot_pool(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    pool = task.get("pool")
    if not isinstance(pool, str):
        return
    slots = cfg.pools.get(pool)
    if slots is not None and slots <= 1:
        yield (
            f"task '{task.task_id}' uses pool '{pool}'{task.origin('pool')} with {slots} slot: "
            "one stuck task blocks every other task in the pool"
        )


PINNED_QUEUE = Rule(
    code="SPF201",
    name="pinned-queue",
    severity=Severity.WARNING,
    summary="A task is routed to a queue served by fewer than two workers, or an unknown queue.",
    rationale=(
        "With the Celery executor a queue is only as available as the workers consuming it. "
        "A queue that one worker serves (often a special box with a licence, a GPU or a "
        "firewall hole) turns that machine into a single point of failure for every task "
        "routed to it; an unknown queue may have no worker at all and the task waits forever. "
        "The Kubernetes executors' queue (`kubernetes-queues`, by default `kubernetes`) and "
        "tasks run by a `KubernetesExecutor` get a pod each and are not reported."
    ),
    bad='BashOperator(task_id="score", queue="gpu-box-1", bash_command="score.sh")',
    good='BashOperator(task_id="score", queue="gpu", bash_command="score.sh")  # gpu = 3 workers',
    fix=(
        "Route to a queue with at least two workers and record it in "
        "`[tool.airflow-spof.lint.queues]`."
    ),
    scope="task",
    task_check=_pinned_queue,
    needs=frozenset({"queue"}),
)

PINNED_NODE = Rule(
    code="SPF202",
    name="pinned-node",
    severity=Severity.ERROR,
    summary=(
        "A pod is pinned to one Kubernetes node (hostname selector, node_name, required affinity)."
    ),
    rationale=(
        "`kubernetes.io/hostname` selectors, `node_name` and required node affinity to a "
        "single host all mean the pod can be scheduled on exactly one machine. Node "
        "upgrades, autoscaler scale-down and hardware failure then stop the task, and the "
        "scheduler cannot place it anywhere else."
    ),
    bad=(
        'executor_config={"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(\n'
        '    node_selector={"kubernetes.io/hostname": "ip-10-0-1-12"}))}'
    ),
    good=(
        'executor_config={"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(\n'
        '    node_selector={"node.kubernetes.io/instance-type": "r6i.2xlarge"}))}'
    ),
    fix="Select nodes by label (instance type, zone, node pool) or use preferred affinity.",
    scope="task",
    task_check=_pinned_node,
    needs=frozenset(_POD_KWARGS),
)

SINGLE_SLOT_POOL = Rule(
    code="SPF203",
    name="single-slot-pool",
    severity=Severity.WARNING,
    summary="A task uses a pool the config says has one slot.",
    rationale=(
        "A one-slot pool serialises every task that uses it: a single hung or slow task "
        "holds the slot and all the others queue behind it, across DAGs. It is a mutex, and "
        "a mutex without a timeout is a single point of failure."
    ),
    bad='PythonOperator(task_id="sync", pool="legacy_db", python_callable=sync)',
    good=(
        'PythonOperator(task_id="sync", pool="legacy_db", python_callable=sync,\n'
        "               execution_timeout=timedelta(minutes=10))  # pool has 4 slots"
    ),
    fix="Give the pool more slots, and bound the tasks in it with `execution_timeout`.",
    scope="task",
    task_check=_single_slot_pool,
    needs=frozenset({"pool"}),
)
