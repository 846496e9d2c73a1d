"""Output formats; each reporter turns findings into text for one consumer."""

from __future__ import annotations

from collections.abc import Callable

from airflow_spof.lint.model import Finding
from airflow_spof.lint.reporters.github import render_github
from airflow_spof.lint.reporters.json import render_json
from airflow_spof.lint.reporters.sarif import render_sarif
from airflow_spof.lint.reporters.text import render_statistics, render_text

Reporter = Callable[[list[Finding], bool], str]

REPORTERS: dict[str, Reporter] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}

__all__ = ["REPORTERS", "Reporter", "render_statistics"]
