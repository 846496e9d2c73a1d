"""Machine output: a JSON list of findings with every field."""

from __future__ import annotations

import json

from airflow_spof.lint.model import Finding


def render_json(findings: list[Finding], colour: bool) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2) + "\n"
