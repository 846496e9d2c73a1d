"""The four demo steps, against real servers and real ``dag.test()`` runs.

1. a healthy run of the resilient ETL; 2. the us-east-1 moto process is
killed (a real outage) and the next day's run falls back, writes at quorum
and opens a breaker; 3. the region returns (empty) and the hourly repair DAG
converges it; 4. the linter takes apart ``dags/`` and a fragile sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_spof.demo.report import StepResult, short

ETL, REPAIR = "resilient_orders_etl", "hourly_repair"
DAY1 = datetime(2026, 11, 26, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 27, tzinfo=timezone.utc)
PRIMARY = "us-east-1"
SAMPLES = Path(__file__).resolve().parent / "samples"
# One refused connection opens a breaker, so a single demo run shows it.
SETTINGS = {"AIRFLOW__SPOF__BREAKER_FAILURE_THRESHOLD": "1"}

Say = Callable[[str], None]


def key_of(day: datetime) -> str:
    return f"orders/{day:%Y-%m-%d}.csv"


def breaker_states() -> dict[str, str]:
    from airflow_spof.settings import circuit_breakers

    return {s.endpoint: s.state.value for s in circuit_breakers().all_statuses()}


def _etl_step(number: int, title: str, dags: Any, day: datetime) -> StepResult:
    from airflow_spof.plugin.lineage_view import replicas_written, sources_tried
    from airflow_spof.testing.dagrun import run_dag

    started = time.monotonic()
    result = run_dag(dags.dag(ETL), day)
    seconds = time.monotonic() - started
    curate = result.xcoms.get("curate_orders") or {}
    failover, replication = curate.get("failover") or {}, curate.get("replication") or {}
    return StepResult(
        number=number,
        title=title,
        dag_id=ETL,
        ok=result.succeeded,
        seconds=seconds,
        served_by=failover.get("served_by"),
        fell_back=bool(failover.get("fell_back")),
        fallback_from=list(failover.get("fallback_from") or []),
        written=list(replication.get("acknowledged") or []),
        lagging=list(replication.get("lagging") or []),
        breakers=breaker_states(),
        picture={
            "sources": sources_tried(failover) if failover else [],
            "served_by": failover.get("served_by"),
            "replica_set": replication.get("replica_set"),
            "replicas": replicas_written(replication) if replication else [],
        },
        details={"task_states": result.task_states, "run_id": result.run_id},
    )


def healthy_run(env: Any, dags: Any, say: Say) -> StepResult:
    env.land_orders(f"{DAY1:%Y-%m-%d}")
    step = _etl_step(1, "healthy run", dags, DAY1)
    say(f"served by the primary [bold]{step.served_by}[/]")
    say(f"written to {len(step.written)} of {len(step.written) + len(step.lagging)} replicas")
    return step


def region_down(env: Any, dags: Any, say: Say) -> StepResult:
    env.land_orders(f"{DAY2:%Y-%m-%d}")
    env.regions[PRIMARY].kill()
    say(f"killed the {PRIMARY} moto_server (SIGKILL): the region and its data are gone")
    step = _etl_step(2, f"{PRIMARY} down", dags, DAY2)
    opened = [ep for ep, state in step.breakers.items() if state == "open"]
    step.ok = step.ok and step.fell_back and len(step.lagging) == 1 and bool(opened)
    say(f"read fell back from {', '.join(step.fallback_from)} to [bold]{step.served_by}[/]")
    say(
        f"write reached quorum on {len(step.written)} replicas; lagging (hinted for repair): "
        f"[yellow]{', '.join(step.lagging)}[/]"
    )
    say(f"breaker opened: [red]{', '.join(opened) or 'none'}[/]")
    return step


def region_returns(env: Any, dags: Any, say: Say) -> StepResult:
    from airflow_spof.hooks.replicated import ReplicatedHook
    from airflow_spof.testing.dagrun import run_dag

    env.regions[PRIMARY].restart()
    env.create_buckets()
    say(f"{PRIMARY} is back (empty, as a lost region returns); running {REPAIR}")
    started = time.monotonic()
    result = run_dag(dags.dag(REPAIR), DAY2)
    seconds = time.monotonic() - started
    report = result.xcoms.get("repair_curated_orders") or {}
    curated = dags.replica_set("curated_orders")
    hook = ReplicatedHook(curated, event_context={})
    checksums = {key_of(day): hook.checksums(key_of(day)) for day in (DAY1, DAY2)}
    identical = all(
        len(set(sums.values())) == 1 and None not in sums.values() for sums in checksums.values()
    )
    for item in report.get("repaired", []):
        say(f"repaired {item['item']} on {short(item['endpoint'])} from {short(item['from'])}")
    for key, sums in checksums.items():
        digests = {(v or "missing")[:12] for v in sums.values()}
        say(f"{key}: {len(sums)} replicas, checksums {' / '.join(sorted(digests))}")
    say("[green]replicas identical[/]" if identical else "[red]replicas still differ[/]")
    return StepResult(
        number=3,
        title=f"{PRIMARY} returns, repair",
        dag_id=REPAIR,
        ok=result.succeeded and identical,
        seconds=seconds,
        written=sorted({item["endpoint"] for item in report.get("repaired", [])}),
        breakers=breaker_states(),
        checksums=checksums,
        details={"repair": report, "task_states": result.task_states},
        notes=[f"{len(report.get('repaired', []))} item(s) copied, converged={identical}"],
    )


def lint_step(dags_folder: Path, say: Say, show: Callable[[str], None]) -> StepResult:
    from airflow_spof.lint import inventory
    from airflow_spof.lint.config import load_config
    from airflow_spof.lint.engine import lint_paths
    from airflow_spof.lint.reporters import REPORTERS

    started = time.monotonic()
    cfg = load_config(None, start=dags_folder)
    clean = lint_paths([str(dags_folder)], cfg).findings
    sample = lint_paths([str(SAMPLES)], cfg, keep_modules=True)
    resources = inventory.build(sample.modules, cfg)
    seconds = time.monotonic() - started
    say(f"{dags_folder}: {len(clean)} findings")
    say(f"fragile sample ({SAMPLES / 'fragile_orders.py'}): {len(sample.findings)} findings")
    show(REPORTERS["text"](sample.findings, False))
    show(inventory.render_table(resources))
    by_rule: dict[str, int] = {}
    for finding in sample.findings:
        by_rule[finding.code] = by_rule.get(finding.code, 0) + 1
    return StepResult(
        number=4,
        title="lint",
        dag_id="dags/ + fragile sample",
        ok=not clean and bool(sample.findings),
        seconds=seconds,
        breakers=breaker_states(),
        notes=[f"dags/: {len(clean)} findings", f"fragile sample: {len(sample.findings)} findings"],
        details={
            "dags_findings": len(clean),
            "sample_findings": len(sample.findings),
            "by_rule": dict(sorted(by_rule.items())),
            "inventory": [r.to_dict() for r in resources],
        },
    )
