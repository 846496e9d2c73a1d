"""Run the registry's rules over extracted facts; used by the CLI and the cluster policy."""

from __future__ import annotations

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.model import Finding, Location, Module
from airflow_spof.lint.rules import CALLS_UNFOLLOWED, RULES, Rule


def make_finding(
    rule: Rule,
    cfg: LintConfig,
    message: str,
    where: Location,
    dag_id: str | None = None,
    task_id: str | None = None,
) -> Finding:
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=cfg.severity.get(rule.code, rule.severity),
        message=message,
        where=where,
        fix=rule.fix,
        dag_id=dag_id,
        task_id=task_id,
    )


def check_module(module: Module, cfg: LintConfig) -> list[Finding]:
    """Every enabled rule against every task and replica set of one module."""
    findings: list[Finding] = []
    add = findings.append
    if module.unfollowed is not None and cfg.enabled(CALLS_UNFOLLOWED.code, module.path):
        message = (
            "the budget of followed calls of this file's own functions is spent: this call "
            "and every later one were not followed, so tasks they create are not checked"
        )
        add(make_finding(CALLS_UNFOLLOWED, cfg, message, module.unfollowed))
    fallback = Location(module.path, 1, 1, 1, 1, (1,))
    pairs = [(dag, task, task.where or dag.where or fallback) for dag, task in module.tasks()]
    for rule in RULES:
        if not cfg.enabled(rule.code, module.path):
            continue
        if rule.replica_check is not None:
            for replicas in module.replica_sets:
                for message in rule.replica_check(replicas, cfg):
                    add(make_finding(rule, cfg, message, replicas.where or fallback))
        check = rule.task_check
        if check is None or not pairs:
            continue
        code, name, fix = rule.code, rule.name, rule.fix
        severity = cfg.severity.get(code, rule.severity)
        needs = rule.needs
        for dag, task, where in pairs:
            if needs and task.kwargs.keys().isdisjoint(needs):
                continue
            for message in check(task, dag, cfg):
                add(Finding(code, name, severity, message, where, fix, dag.dag_id, task.task_id))
    return findings


def syntax_error(path: str, line: int, col: int, message: str, cfg: LintConfig) -> Finding:
    from airflow_spof.lint.rules import SYNTAX_ERROR

    where = Location(path, line, col, line, col, (line,))
    return make_finding(SYNTAX_ERROR, cfg, f"cannot parse file: {message}", where)
