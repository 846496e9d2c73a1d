"""Helpers for linter tests: lint a snippet of DAG code from a temporary file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.engine import lint_paths
from airflow_spof.lint.model import Finding

GOOD_DEFAULTS = 'DEFAULTS = {"retries": 2, "execution_timeout": timedelta(minutes=30)}\n'

Lint = Callable[..., list[Finding]]


@pytest.fixture
def lint(tmp_path: Path) -> Lint:
    """Lint dedented source; returns findings (optionally only for some codes)."""

    def run(
        source: str,
        *,
        codes: tuple[str, ...] = (),
        cfg: LintConfig | None = None,
        name: str = "dag_file.py",
    ) -> list[Finding]:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        config = cfg or LintConfig(root=tmp_path)
        findings = lint_paths([str(path)], config).findings
        return [f for f in findings if not codes or f.code in codes]

    return run


def codes_of(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)
