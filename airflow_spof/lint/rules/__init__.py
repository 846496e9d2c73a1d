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

CALLS_UNFOLLOWED = Rule(
    code="SPF002",
    name="calls-unfollowed",
    severity=Severity.INFO,
    summary="A file calls its own functions so often that the linter stopped following them.",
    rationale=(
        "The linter follows calls of a file's own functions (DAG factories, helpers that "
        "make tasks) to find the tasks they create, up to 2,000 calls per file, so that "
        "helpers calling helpers in loops cannot make a run last hours. Calls past that "
        "budget are not followed and the tasks they would create are not checked. This "
        "finding marks the first of them, so that a quiet report on such a file is not "
        "mistaken for a clean one."
    ),
    bad=(
        "def table(name):\n    return SQLExecuteQueryOperator(task_id=name, sql=f'...{name}')\n"
        "for name in FIVE_THOUSAND_TABLES:\n    table(name)"
    ),
    good="for name in FIVE_THOUSAND_TABLES:\n    SQLExecuteQueryOperator(task_id=name, sql=...)",
    fix=(
        "In a DAG file, make the tasks in the loop itself or split the file; for library "
        "code in the scanned tree, list its folder under `exclude`."
    ),
    scope="file",
)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            SYNTAX_ERROR,
            CALLS_UNFOLLOWED,
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
