"""Machine output: a JSON list of findings with every field, one finding per line.

One line per finding keeps the report diff-friendly and lets the C encoder do the
work (``indent=`` switches ``json`` to its pure-Python encoder, ~20x slower).
"""

from __future__ import annotations

import json

from airflow_spof.lint.model import Finding

_ENCODER = json.JSONEncoder()


def render_json(findings: list[Finding], colour: bool) -> str:
    if not findings:
        return "[]\n"
    encode = _ENCODER.encode
    return "[\n" + ",\n".join("  " + encode(f.to_dict()) for f in findings) + "\n]\n"
