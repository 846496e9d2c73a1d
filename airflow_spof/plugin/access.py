"""Who is asking, and which DAGs' resilience data they may read.

Every route depends on :func:`viewer`: it authenticates through Airflow's own
auth manager (the ``Authorization: Bearer`` JWT, or the UI's ``_token``
cookie when the page is rendered inside the Airflow UI iframe), so the plugin
never has a login of its own. DAG-scoped data (events, task-instance reports)
is filtered by the user's DAG read permission; endpoint-wide data (health,
breakers, hints, events recorded outside any task) needs read access to the
installation's plugins view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, status


@dataclass(frozen=True)
class Viewer:
    """An authenticated user and what they may read."""

    username: str
    dag_ids: frozenset[str]
    operational: bool

    def can_read_dag(self, dag_id: str | None) -> bool:
        """DAG-less records (CLI repairs, scripts) count as endpoint-wide data."""
        return self.operational if dag_id is None else dag_id in self.dag_ids


def resolve_viewer(user: Any) -> Viewer:
    """Ask the configured auth manager once per request (it may hit its own backend)."""
    manager = get_auth_manager()
    dag_ids = manager.get_authorized_dag_ids(user=user, method="GET")
    operational = manager.is_authorized_view(access_view=AccessView.PLUGINS, user=user)
    return Viewer(
        username=str(user.get_name()), dag_ids=frozenset(dag_ids), operational=operational
    )


def viewer(user: GetUserDep) -> Viewer:
    """FastAPI dependency: 401 without a token (raised by Airflow's ``get_user``)."""
    return resolve_viewer(user)


ViewerDep = Annotated[Viewer, Depends(viewer)]


def require_dag(user_view: Viewer, dag_id: str) -> None:
    """404, not 403, for a DAG the user cannot read: do not confirm that it exists."""
    if dag_id not in user_view.dag_ids:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no resilience data for DAG {dag_id!r}")
