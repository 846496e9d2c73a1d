"""Cluster policy (entry point ``airflow.policy``): the lint rules on parsed DAGs.

Mode ``[spof] lint_policy_mode``: ``off``, ``warn`` (log findings, default) or
``enforce`` (error-severity findings raise AirflowClusterPolicyViolation, so the
DAG shows up as an import error instead of running with a single point of failure).
"""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowClusterPolicyViolation
from airflow.policies import hookimpl

from airflow_spof.lint import dag_objects, source_index
from airflow_spof.lint.checks import check_module, make_finding
from airflow_spof.lint.config import LintConfig, load_config
from airflow_spof.lint.model import Dag, Finding, Location, Module, Severity
from airflow_spof.lint.rules import RULES
from airflow_spof.lint.source_index import SourceIndex

log = logging.getLogger(__name__)
MODES = ("off", "warn", "enforce")
_facts_cache: dict[int, tuple[weakref.ref[Any], Dag]] = {}
_config_cache: dict[str, LintConfig] = {}


def policy_mode() -> str:
    from airflow.configuration import conf

    mode = str(conf.get("spof", "lint_policy_mode", fallback="warn")).strip().lower()
    if mode not in MODES:
        log.warning("[spof] lint_policy_mode=%r is not one of %s; using 'warn'", mode, MODES)
        return "warn"
    return mode


def policy_config(fileloc: str) -> LintConfig:
    """``[spof] lint_config`` if set, else the nearest pyproject above the DAG file."""
    from airflow.configuration import conf

    explicit = conf.get("spof", "lint_config", fallback="") or ""
    key = explicit or str(Path(fileloc).parent)
    if key not in _config_cache:
        cfg = load_config(Path(explicit) if explicit else None, start=Path(key))
        cfg.kubernetes_queues = [*cfg.kubernetes_queues, *_hybrid_executor_queues()]
        _config_cache[key] = cfg
    return _config_cache[key]


_HYBRID_EXECUTORS = {
    "CeleryKubernetesExecutor": "celery_kubernetes_executor",
    "LocalKubernetesExecutor": "local_kubernetes_executor",
}
"""Executor class -> the ``airflow.cfg`` section holding its ``kubernetes_queue``."""


def _hybrid_executor_queues() -> list[str]:
    """The ``kubernetes_queue`` of this deployment's Celery/Local Kubernetes executor: tasks
    routed there get a pod each, wherever the cluster has room."""
    from airflow.configuration import conf

    executors = conf.get("core", "executor", fallback="") or ""
    queues: list[str] = []
    for executor, section in _HYBRID_EXECUTORS.items():
        if executor in executors:
            queues.append(conf.get(section, "kubernetes_queue", fallback="kubernetes"))
    return queues


def _facts(dag: Any, index: SourceIndex) -> Dag:
    cached = _facts_cache.get(id(dag))
    task_count = len(dag.tasks)
    if cached is not None and len(cached[1].tasks) == task_count and cached[0]() is dag:
        return cached[1]
    facts = dag_objects.dag_facts(dag)
    facts.where = index.dags.get(facts.dag_id, facts.where)
    for task_id, task in facts.tasks.items():
        task.where = index.task(facts.dag_id, task_id) or task.where
    _facts_cache.clear()
    _facts_cache[id(dag)] = (weakref.ref(dag), facts)
    return facts


def _visible(findings: list[Finding], index: SourceIndex) -> list[Finding]:
    """Drop what the DAG file opts out of: ``# noqa`` on the lines, or a skip-file marker."""
    if index.skip:
        return []
    return [f for f in findings if not index.suppressed(f)]


def _at(finding: Finding) -> str:
    return f"{finding.where.path}:{finding.where.line}"


def _report(findings: list[Finding], mode: str, subject: str, cfg: LintConfig) -> None:
    for finding in findings:
        log.warning(
            "airflow-spof %s %s (%s): %s", finding.code, subject, _at(finding), finding.message
        )
    errors = [f for f in findings if f.severity >= Severity.ERROR]
    if mode == "enforce" and errors:
        details = "; ".join(f"{f.code} {f.message} ({_at(f)})" for f in errors)
        raise AirflowClusterPolicyViolation(
            f"airflow-spof lint policy rejected {subject}: {details}. "
            "Fix it, or ignore the code in [tool.airflow-spof.lint] (ignore / per-file-ignores)."
        )


def _enabled(cfg: LintConfig, path: str) -> list[Any]:
    return [r for r in RULES if cfg.enabled(r.code, path)]


@hookimpl
def dag_policy(dag: Any) -> None:
    """Replica-set rules, once per DAG."""
    mode = policy_mode()
    if mode == "off":
        return
    path = str(getattr(dag, "fileloc", "") or "")
    cfg = policy_config(path)
    index = source_index.index_for(path)
    replica_sets = dag_objects.replica_sets(dag)
    for replicas in replica_sets:
        replicas.where = index.replica_set(replicas) or replicas.where
    findings = check_module(Module(path=path, replica_sets=replica_sets), cfg)
    _report(_visible(findings, index), mode, f"DAG '{dag.dag_id}'", cfg)


@hookimpl
def task_policy(task: Any) -> None:
    """Task rules, with the task's DAG as context for graph rules."""
    mode = policy_mode()
    dag = getattr(task, "dag", None)
    if mode == "off" or dag is None:
        return
    path = str(getattr(dag, "fileloc", "") or "")
    cfg = policy_config(path)
    index = source_index.index_for(path)
    facts = _facts(dag, index)
    task_facts = facts.tasks.get(task.task_id)
    if task_facts is None:
        return
    findings: list[Finding] = []
    for rule in _enabled(cfg, path):
        if rule.task_check is None:
            continue
        for message in rule.task_check(task_facts, facts, cfg):
            where = task_facts.where or Location(path, 1, 1, 1, 1, ())
            findings.append(make_finding(rule, cfg, message, where, facts.dag_id, task.task_id))
    _report(_visible(findings, index), mode, f"task '{dag.dag_id}.{task.task_id}'", cfg)
