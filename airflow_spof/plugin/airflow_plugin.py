"""The airflow-spof Airflow plugin: a Resilience page, a task-instance tab and a JSON API.

Registered through the ``airflow.plugins`` entry point. It ships no
listeners on purpose: any plugin listener makes every DAG with an
``end_from_trigger=True`` task fail to import.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_spof.plugin.app import create_app

URL_PREFIX = "/spof"

TASK_INSTANCE_HREF = (
    f"{URL_PREFIX}/task-instance?dag_id={{DAG_ID}}&run_id={{RUN_ID}}"
    "&task_id={TASK_ID}&map_index={MAP_INDEX}"
)


class SpofPlugin(AirflowPlugin):
    """Mounts the FastAPI app at ``/spof`` and adds the page and the tab to the UI."""

    name = "spof"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "airflow-spof"}]
    external_views = [
        {
            "name": "Resilience",
            "href": f"{URL_PREFIX}/resilience",
            "url_route": "resilience",
            "destination": "nav",
            "category": "browse",
        },
        {
            "name": "Resilience",
            "href": TASK_INSTANCE_HREF,
            "url_route": "spof-task-instance",
            "destination": "task_instance",
        },
    ]


__all__ = ["SpofPlugin"]
