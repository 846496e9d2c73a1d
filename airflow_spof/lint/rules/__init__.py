"""The rule registry: every rule, in code order."""

from __future__ import annotations

from airflow_spof.lint.model import Severity
from airflow_spof.lint.rules.base import Rule
from airflow_spof.lint.rules.connections import LITERAL_HOST, SINGLE_CONNECTION
from airflow_spof.lint.rules.dataflow import LOCAL_HANDOFF, UNGUARDED_READ
from airflow_spof.lint.rules.placement import PINNED_NODE, PINNED_QUEUE, SINGLE_SLOT_POOL
from airflow_spof.lint.rules.replicas import SHARED_ENDPOINT, SINGLE_REGION, WRITE_ALL
from airflow_spof.lint.rules.runtime import (
    DEPENDS_ON_PAST,
    NO_RETRIES,
    NO_TIMEOUT,
    POKING_SENSOR,
)

SYNTAX_ERROR = Rule(
    code="SPF001",
    name="syntax-error",
    severity=Severity.ERROR,
    summary="A file cannot be parsed, so nothing in it was checked.",
    rationale=(
        "A DAG file that does not parse is a DAG that does not run: the scheduler shows an "
        "import error and every task in it stops. The linter reports it with its location "
        "and goes on with the other files."
    ),
    bad="with DAG('orders'\n    t = EmptyOperator(task_id='t')",
    good="with DAG('orders'):\n    t = EmptyOperator(task_id='t')",
    fix="Fix the syntax error at the reported line.",
    scope="file",
)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            SYNTAX_ERROR,
            SINGLE_CONNECTION,
            SHARED_ENDPOINT,
            SINGLE_REGION,
            WRITE_ALL,
            PINNED_QUEUE,
            PINNED_NODE,
            SINGLE_SLOT_POOL,
            LITERAL_HOST,
            LOCAL_HANDOFF,
            UNGUARDED_READ,
            NO_RETRIES,
            NO_TIMEOUT,
            POKING_SENSOR,
            DEPENDS_ON_PAST,
        ),
        key=lambda rule: rule.code,
    )
)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

__all__ = ["BY_CODE", "RULES", "Rule"]
