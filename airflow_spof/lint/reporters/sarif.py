"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_spof.lint.model import Finding, Severity
from airflow_spof.lint.rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_DOCS = "https://github.com/airflow-spof/airflow-spof/blob/main/docs/rules.md"


def _uri(path: str) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return candidate.as_uri()
    return candidate.as_posix()


def _rule(index: int) -> dict[str, Any]:
    rule = RULES[index]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": rule.fix, "markdown": f"**Fix:** {rule.fix}"},
        "helpUri": f"{_DOCS}#{rule.code.lower()}-{rule.name}",
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
    }


def render_sarif(findings: list[Finding], colour: bool) -> str:
    from airflow_spof.lint import __version__

    index = {rule.code: i for i, rule in enumerate(RULES)}
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.where.path)},
                        "region": {
                            "startLine": f.where.line,
                            "startColumn": f.where.col,
                            "endLine": max(f.where.end_line, f.where.line),
                            "endColumn": max(f.where.end_col, 1),
                        },
                    }
                }
            ],
        }
        for f in findings
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "airflow-spof-lint",
                        "version": __version__,
                        "informationUri": _DOCS,
                        "rules": [_rule(i) for i in range(len(RULES))],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
