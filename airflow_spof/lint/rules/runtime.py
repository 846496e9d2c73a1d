"""Rules about how a task behaves when something goes wrong at run time."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import UNKNOWN, Dag, Severity, Task
from airflow_spof.lint.rules import classify
from airflow_spof.lint.rules.base import Rule

SENSOR_DEFAULT_TIMEOUT = 7 * 24 * 3600.0


def _no_retries(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    if task.operator in classify.NOOP_OPERATORS:
        return
    if "retries" not in task.kwargs:
        if task.complete and cfg.default_retries == 0:
            yield f"task '{task.task_id}' has no retries: one transient error fails the run"
        return
    retries = task.kwargs["retries"]
    if isinstance(retries, int) and not isinstance(retries, bool) and retries <= 0:
        yield (
            f"task '{task.task_id}' has retries={retries}{task.origin('retries')}: "
            "one transient error fails the run"
        )


def _no_timeout(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    if task.operator in classify.NOOP_OPERATORS or task.is_sensor:
        return
    if "execution_timeout" not in task.kwargs:
        if task.complete:
            yield (
                f"task '{task.task_id}' has no execution_timeout: a hung call holds its "
                "worker slot (and pool slot) forever"
            )
        return
    if task.kwargs["execution_timeout"] is None:
        yield (
            f"task '{task.task_id}' sets execution_timeout=None{task.origin('execution_timeout')}: "
            "a hung call holds its worker slot forever"
        )


def _poking_sensor(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    if task.operator == "TriggerDagRunOperator":
        yield from _waiting_trigger(task)
        return
    if not task.is_sensor:
        return
    deferrable = task.get("deferrable")
    mode = task.get("mode")
    if deferrable is True or mode == "reschedule":
        return
    if deferrable is UNKNOWN or mode is UNKNOWN:
        return
    if (
        mode is None
        and deferrable is None
        and (task.operator in cfg.deferrable_sensors or task.operator.endswith("Async"))
    ):  # DateTimeSensorAsync, TimeDeltaSensorAsync...: they always defer
        return
    timeout = classify.seconds(task.get("timeout", SENSOR_DEFAULT_TIMEOUT))
    if "timeout" in task.kwargs and timeout is None:
        return
    if timeout is None or timeout > cfg.max_poke_timeout:
        shown = "no timeout (7 days)" if "timeout" not in task.kwargs else f"timeout={timeout:g}s"
        yield (
            f"sensor '{task.task_id}' pokes with {shown}: it holds a worker slot the whole "
            "time; use deferrable=True or mode='reschedule'"
        )


_PAST_KWARGS = ("depends_on_past", "wait_for_downstream")


def _waiting_trigger(task: Task) -> Iterable[str]:
    """``wait_for_completion=True`` polls the triggered run from a worker slot, like a
    poking sensor, unless it defers."""
    if task.get("wait_for_completion") is not True or task.get("deferrable") in (True, UNKNOWN):
        return
    yield (
        f"task '{task.task_id}' sets wait_for_completion=True without deferrable=True: it "
        "holds a worker slot until the DAG run it triggers finishes"
    )


def _depends_on_past(task: Task, dag: Dag, cfg: LintConfig) -> Iterable[str]:
    for key in _PAST_KWARGS:
        if task.get(key) is True:
            yield (
                f"task '{task.task_id}' sets {key}=True{task.origin(key)}: one failed run "
                "blocks every later run until someone intervenes"
            )


NO_RETRIES = Rule(
    code="SPF401",
    name="no-retries",
    severity=Severity.WARNING,
    summary="A task has no retries after default_args are applied.",
    rationale=(
        "Most failures in a pipeline are transient: a dropped connection, a throttled API, "
        "a worker restarted under the task. Without retries each of them fails the run and "
        "pages someone; with two or three retries and a delay they are absorbed."
    ),
    bad='DAG("orders", default_args={"owner": "data"})',
    good=(
        'DAG("orders", default_args={"owner": "data", "retries": 3,\n'
        '                             "retry_delay": timedelta(minutes=5)})'
    ),
    fix="Set `retries` (and `retry_delay`, `retry_exponential_backoff`) in default_args.",
    scope="task",
    task_check=_no_retries,
)

NO_TIMEOUT = Rule(
    code="SPF402",
    name="no-execution-timeout",
    severity=Severity.WARNING,
    summary="A task has no `execution_timeout`.",
    rationale=(
        "A call that never returns (a stuck socket, a lock, a query waiting on a dead "
        "replica) keeps the task running forever: it holds a worker slot and a pool slot, "
        "and retries never start because the task never fails. A timeout turns the hang "
        "into a failure that retries and failover can handle."
    ),
    bad='PythonOperator(task_id="sync", python_callable=sync)',
    good=(
        'PythonOperator(task_id="sync", python_callable=sync,\n'
        "               execution_timeout=timedelta(minutes=30))"
    ),
    fix="Set `execution_timeout` on the task or in default_args.",
    scope="task",
    task_check=_no_timeout,
)

POKING_SENSOR = Rule(
    code="SPF403",
    name="poking-sensor",
    severity=Severity.WARNING,
    summary="A sensor in poke mode with no timeout or a long one.",
    rationale=(
        "A poking sensor occupies a worker slot for as long as it waits (seven days by "
        "default). A handful of them waiting on a late upstream exhaust the workers, and "
        "every other DAG stops: the outage of one source becomes an outage of the platform. "
        "A `TriggerDagRunOperator` with `wait_for_completion=True` waits the same way unless "
        "it is deferrable. "
        "Sensors that always defer (`...SensorAsync`, and those listed in "
        "`deferrable-sensors`) are not reported."
    ),
    bad='S3KeySensor(task_id="wait", bucket_key="s3://in/x", aws_conn_id="aws")',
    good=(
        'S3KeySensor(task_id="wait", bucket_key="s3://in/x", aws_conn_id="aws",\n'
        "            deferrable=True, timeout=3600)"
    ),
    fix="Use `deferrable=True` (or `mode='reschedule'`) and a `timeout` you can live with.",
    scope="task",
    task_check=_poking_sensor,
)

DEPENDS_ON_PAST = Rule(
    code="SPF404",
    name="depends-on-past",
    severity=Severity.WARNING,
    summary="`depends_on_past=True` or `wait_for_downstream=True`.",
    rationale=(
        "With either flag a single failed run blocks every later run of the task until "
        "someone clears or fixes it by hand, so one bad day becomes a growing backlog. "
        "Most pipelines that use it really need idempotent, order-independent loads."
    ),
    bad='DAG("orders", default_args={"depends_on_past": True})',
    good='DAG("orders", default_args={"retries": 3}, max_active_runs=1)',
    fix="Make the load idempotent and drop the flag; use max_active_runs=1 when order matters.",
    scope="task",
    task_check=_depends_on_past,
    needs=frozenset(_PAST_KWARGS),
)
