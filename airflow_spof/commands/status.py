"""``airflow-spof status``: breakers, endpoint health and pending hints from the state store."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from airflow_spof.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    JSON_OPTION,
    Option,
    add_subcommand,
    guarded,
)

OPTIONS: list[Option] = [JSON_OPTION]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return add_subcommand(
        subparsers,
        "status",
        "show circuit breakers, endpoint health and pending repair hints",
        "Read the shared state store ([spof] state_store_url) and show every circuit "
        "breaker, the last probe of each endpoint and the hints waiting for repair.",
        OPTIONS,
        guarded("status", run),
    )


def collect() -> dict[str, Any]:
    """Everything ``status`` shows, as plain data (also used by the demo report)."""
    import sqlalchemy as sa

    from airflow_spof.core.state import health
    from airflow_spof.settings import SpofSettings, circuit_breakers, state_store

    settings = SpofSettings.load()
    store = state_store(settings.state_store_url)
    now = time.time()
    breakers = [
        {
            "endpoint": s.endpoint,
            "state": s.state.value,
            "consecutive_failures": s.consecutive_failures,
            "reopens_in_s": round(s.reopens_in(settings.breaker, now), 1),
            "last_error": s.last_error,
        }
        for s in circuit_breakers(store).all_statuses()
    ]
    no_probes: list[dict[str, Any]] = []
    probes = store.run(
        lambda conn: [dict(r) for r in conn.execute(sa.select(health)).mappings()], no_probes
    )
    hints = [
        {
            "replica_set": h.replica_set,
            "endpoint": h.endpoint,
            "item": h.item,
            "reason": h.reason,
            "age_s": round(now - h.created_at, 1),
        }
        for h in store.pending_hints()
    ]
    return {
        "state_store": _redacted(settings.state_store_url),
        "available": store.available,
        "breakers": breakers,
        "health": [
            {
                "endpoint": p["endpoint"],
                "healthy": bool(p["healthy"]),
                "latency_ms": p["latency_ms"],
                "checked_s_ago": round(now - p["checked_at"], 1),
                "detail": p["detail"],
            }
            for p in sorted(probes, key=lambda p: p["endpoint"])
        ],
        "pending_hints": hints,
    }


def run(args: argparse.Namespace) -> int:
    data = collect()
    if not data["available"]:
        print(
            f"airflow-spof status: error: state store {data['state_store']} is unreachable; "
            "check [spof] state_store_url / state_store_conn_id",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        render(data)
    return EXIT_OK


def render(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"state store: {data['state_store']}")
    breakers = Table("endpoint", "breaker", "failures", "trial in", "last error", title="Breakers")
    for b in data["breakers"]:
        colour = {"closed": "green", "open": "red"}.get(b["state"], "yellow")
        breakers.add_row(
            b["endpoint"],
            f"[{colour}]{b['state']}[/]",
            str(b["consecutive_failures"]),
            f"{b['reopens_in_s']:g}s" if b["state"] == "open" else "",
            (b["last_error"] or "")[:60],
        )
    health_table = Table("endpoint", "healthy", "latency", "checked", "detail", title="Health")
    for h in data["health"]:
        health_table.add_row(
            h["endpoint"],
            "[green]yes[/]" if h["healthy"] else "[red]no[/]",
            f"{h['latency_ms']:.0f} ms" if h["latency_ms"] is not None else "",
            f"{h['checked_s_ago']:g}s ago",
            (h["detail"] or "")[:60],
        )
    hints = Table("replica set", "endpoint", "item", "age", "reason", title="Pending hints")
    for hint in data["pending_hints"]:
        hints.add_row(
            hint["replica_set"],
            hint["endpoint"],
            hint["item"],
            f"{hint['age_s']:g}s",
            (hint["reason"] or "")[:50],
        )
    for table, empty in (
        (breakers, "no breaker has recorded a failure"),
        (health_table, "no endpoint probed yet"),
        (hints, "no pending hints: every replica is up to date"),
    ):
        if table.row_count:
            console.print(table)
        else:
            console.print(f"[bold]{table.title}[/]: {empty}")


_SECRET_PARAM = re.compile("pass|secret|token|key", re.IGNORECASE)


def _redacted(url: str) -> str:
    """The URL without its password, wherever it is written: the user-info part, or a
    query parameter such as libpq's ``?password=``."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
        query = {k: "hidden" if _SECRET_PARAM.search(k) else v for k, v in parsed.query.items()}
        return parsed.set(query=query).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"
