"""The FastAPI app mounted at ``/spof``: the Resilience page, the task-instance tab, JSON.

Every HTML page has a JSON twin under ``/spof/api`` returning the same
dicts, so anything on screen is scriptable with the same token.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from airflow_spof.plugin import chart, lineage_view, queries
from airflow_spof.plugin.access import Viewer, ViewerDep, require_dag
from airflow_spof.plugin.xcom_reports import xcom_reports
from airflow_spof.settings import SpofSettings, state_store

TEMPLATES = Environment(
    loader=PackageLoader("airflow_spof.plugin", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
TEMPLATES.filters["when"] = lambda ts: (
    time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if ts else "—"
)

OptionalStr = Annotated[str | None, Query()]
Hours = Annotated[float, Query(gt=0, le=24 * 30)]
Limit = Annotated[int, Query(ge=1, le=queries.MAX_EVENTS)]


def _operational(viewer: Viewer) -> None:
    if not viewer.operational:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "endpoint-wide resilience data needs the plugins view"
        )


MAX_MAP_INDEX = 2**31 - 1  # Airflow's map_index is a 32-bit INTEGER column


def _map_index(value: str) -> int:
    """The UI leaves ``{MAP_INDEX}`` unfilled on unmapped tasks: anything non-numeric is -1.

    A number no task can have is a 422: passed on, it overflows the database driver (500).
    """
    try:
        index = int(value)
    except ValueError:
        return -1
    if not -1 <= index <= MAX_MAP_INDEX:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"map_index {value!r} out of range: expected -1 to {MAX_MAP_INDEX}",
        )
    return index


def _kinds(kind: str | None) -> tuple[str, ...] | None:
    if not kind:
        return None
    if kind not in queries.EVENT_KINDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown kind {kind!r}; expected one of {', '.join(queries.EVENT_KINDS)}",
        )
    return (kind,)


def overview(viewer: Viewer) -> dict[str, Any]:
    """Health, breakers and hints, or empty lists for a viewer without the plugins view."""
    if not viewer.operational:
        return {"restricted": True, "health": [], "breakers": [], "hints": []}
    store = state_store()
    return {
        "restricted": False,
        "health": queries.endpoint_health(store),
        "breakers": queries.breaker_states(store, SpofSettings.load().breaker),
        "hints": queries.pending_hints(store),
    }


def failovers(viewer: Viewer, dag_id: str | None, hours: float) -> dict[str, Any]:
    now = time.time()
    events = queries.recent_events(
        state_store(),
        viewer,
        dag_id=dag_id,
        kinds=("failover",),
        since=now - hours * 3600,
        limit=queries.MAX_EVENTS,
    )
    return chart.failover_series(events, window_s=hours * 3600, now=now)


def task_instance(
    viewer: Viewer, dag_id: str, run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    require_dag(viewer, dag_id)
    events = queries.recent_events(
        state_store(),
        viewer,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        limit=queries.MAX_EVENTS,
    )
    reports = queries.clean(xcom_reports(dag_id, run_id, task_id, map_index))
    identity = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
    return {**identity, "events": events, **lineage_view.ti_lineage(events, reports)}


def create_app() -> FastAPI:
    app = FastAPI(
        title="airflow-spof",
        description="Resilience of data pipelines: failovers, breakers, replica lag.",
    )

    @app.get("/", include_in_schema=False)
    def index(viewer: ViewerDep) -> RedirectResponse:
        return RedirectResponse("resilience")

    @app.get("/api/overview")
    def api_overview(viewer: ViewerDep) -> dict[str, Any]:
        return overview(viewer)

    @app.get("/api/health")
    def api_health(viewer: ViewerDep) -> list[dict[str, Any]]:
        _operational(viewer)
        return queries.endpoint_health(state_store())

    @app.get("/api/breakers")
    def api_breakers(viewer: ViewerDep) -> list[dict[str, Any]]:
        _operational(viewer)
        return queries.breaker_states(state_store(), SpofSettings.load().breaker)

    @app.get("/api/hints")
    def api_hints(viewer: ViewerDep) -> list[dict[str, Any]]:
        _operational(viewer)
        return queries.pending_hints(state_store())

    @app.get("/api/events")
    def api_events(
        viewer: ViewerDep,
        dag_id: OptionalStr = None,
        run_id: OptionalStr = None,
        task_id: OptionalStr = None,
        kind: OptionalStr = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        return queries.recent_events(
            state_store(),
            viewer,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            kinds=_kinds(kind),
            limit=limit,
        )

    @app.get("/api/failovers")
    def api_failovers(
        viewer: ViewerDep, dag_id: OptionalStr = None, hours: Hours = 24
    ) -> dict[str, Any]:
        return failovers(viewer, dag_id, hours)

    @app.get("/failovers.svg")
    def failovers_svg(viewer: ViewerDep, dag_id: OptionalStr = None, hours: Hours = 24) -> Response:
        svg = chart.render_svg(failovers(viewer, dag_id, hours))
        return Response(str(svg), media_type="image/svg+xml")

    @app.get("/api/task-instance")
    def api_task_instance(
        viewer: ViewerDep, dag_id: str, run_id: str, task_id: str, map_index: str = "-1"
    ) -> dict[str, Any]:
        return task_instance(viewer, dag_id, run_id, task_id, _map_index(map_index))

    @app.get("/resilience", response_class=HTMLResponse)
    def resilience_page(
        viewer: ViewerDep,
        dag_id: OptionalStr = None,
        run_id: OptionalStr = None,
        task_id: OptionalStr = None,
        kind: OptionalStr = None,
        limit: Limit = 100,
        hours: Hours = 24,
    ) -> HTMLResponse:
        events = queries.recent_events(
            state_store(),
            viewer,
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            kinds=_kinds(kind),
            limit=limit,
        )
        html = TEMPLATES.get_template("resilience.html").render(
            viewer=viewer,
            overview=overview(viewer),
            events=[{**e, "summary": queries.event_summary(e)} for e in events],
            chart=chart.render_svg(failovers(viewer, dag_id, hours)),
            filters={"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "kind": kind},
            kinds=queries.EVENT_KINDS,
            dag_ids=sorted(viewer.dag_ids),
            hours=hours,
        )
        return HTMLResponse(html)

    @app.get("/task-instance", response_class=HTMLResponse)
    def task_instance_page(
        viewer: ViewerDep, dag_id: str, run_id: str, task_id: str, map_index: str = "-1"
    ) -> HTMLResponse:
        data = task_instance(viewer, dag_id, run_id, task_id, _map_index(map_index))
        html = TEMPLATES.get_template("task_instance.html").render(
            viewer=viewer,
            ti=data,
            picture=lineage_view.render_svg(data["picture"]),
            events=[{**e, "summary": queries.event_summary(e)} for e in data["events"]],
        )
        return HTMLResponse(html)

    return app
