"""What Airflow's ProvidersManager learns about airflow-spof.

Registered through the ``apache_airflow_provider`` entry point.
"""

from __future__ import annotations

from typing import Any

from airflow_spof import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-spof",
        "name": "airflow-spof",
        "description": "Replicated sinks, fallback sources, shared circuit breakers and a "
        "single-point-of-failure linter for Apache Airflow 3.",
        "versions": [__version__],
        "cli": ["airflow_spof.airflow_cli.get_cli_commands"],
        "integrations": [
            {
                "integration-name": "airflow-spof",
                "tags": ["software"],
            }
        ],
        "triggers": [
            {
                "integration-name": "airflow-spof",
                "python-modules": ["airflow_spof.triggers.availability"],
            }
        ],
    }
