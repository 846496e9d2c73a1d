"""Cost of writing rows to 3 PostgreSQL replicas instead of 1, in the same run.

Three throwaway clusters; each round empties the tables, then times a verified
upsert of ROWS rows through ``replicate`` to one replica and to all three
(order alternates between rounds so neither variant always runs warm).
Goal: 3 replicas take at most 1.3x the time of 1.

    .venv/bin/python benchmarks/bench_sql.py [--rows 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import sqlalchemy as sa

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.replication import replicate
from airflow_spof.hooks.backend import TableBackend, Timeouts
from airflow_spof.hooks.sql_backend import SqlBackend
from airflow_spof.hooks.sql_connection import dispose_engines
from airflow_spof.hooks.sql_rows import SharedRows
from airflow_spof.testing.postgres import PostgresCluster

TABLE = "bench_orders"
GOAL = 1.3
LOAD_BEFORE = "/".join(f"{x:.2f}" for x in os.getloadavg())


def make_rows(count: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "customer": f"customer-{i % 997}", "amount": i * 0.25, "note": "x" * 40}
        for i in range(count)
    ]


def create_table(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, customer text, "
            "amount double precision, note text)"
        )


def truncate(backends: list[TableBackend]) -> None:
    for backend in backends:
        assert isinstance(backend, SqlBackend)
        with backend.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {TABLE}")


def timed_write(
    replicas: Replicas, backends: dict[str, TableBackend], rows: list[Any]
) -> tuple[float, float]:
    """Wall time and this process's CPU time (client side: SQLAlchemy, driver, hashing).

    The rows are shared as ``ReplicatedHook.write_rows`` shares them: hashed once when sent.
    """
    started, cpu = time.perf_counter(), time.process_time()
    shared = SharedRows(rows)
    report = replicate(replicas, lambda ep: backends[ep.name].upsert(shared), item=TABLE)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if report.lagging or len({o.checksum for o in report.outcomes}) != 1:
        raise RuntimeError(f"benchmark write did not reach every replica: {report.to_dict()}")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    clusters: list[PostgresCluster] = []
    try:
        for _ in range(3):
            clusters.append(PostgresCluster().init().start())
        endpoints = []
        for index, cluster in enumerate(clusters):
            create_table(cluster.url)
            endpoints.append(
                Endpoint(
                    name=f"pg{index + 1}",
                    kind="sql",
                    conn_id=cluster.url,
                    region=f"region-{index + 1}",
                    location=TABLE,
                    options={"table": TABLE, "key": ["id"], "batch_size": args.batch_size},
                )
            )
        backends: dict[str, TableBackend] = {
            ep.name: SqlBackend(ep, Timeouts(connect=5, read=120)) for ep in endpoints
        }
        one = Replicas(endpoints[0], write_consistency="all")
        three = Replicas(*endpoints, write_consistency="all")
        rows = make_rows(args.rows)
        truncate(list(backends.values()))
        timed_write(three, backends, rows[:1000])  # warm up pools and statement caches

        samples: dict[str, list[tuple[float, float]]] = {"1 replica": [], "3 replicas": []}
        for round_ in range(args.rounds):
            variants = [("1 replica", one), ("3 replicas", three)]
            for label, replicas in variants if round_ % 2 == 0 else reversed(variants):
                truncate(list(backends.values()))
                samples[label].append(timed_write(replicas, backends, rows))
    finally:
        dispose_engines()
        for cluster in clusters:
            cluster.destroy()

    wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
    ratio = wall["3 replicas"] / wall["1 replica"]
    print(f"rows: {args.rows}, batch size: {args.batch_size}, rounds: {args.rounds} (median)")
    print(f"cores: {os.cpu_count()}, load average before: {LOAD_BEFORE}")
    print("| variant | wall time | rows/s (per replica) | client CPU |")
    print("| --- | --- | --- | --- |")
    for label in ("1 replica", "3 replicas"):
        print(
            f"| {label} | {wall[label]:.3f} s | {args.rows / wall[label]:,.0f} "
            f"| {cpu[label]:.3f} s |"
        )
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"ratio 3/1: {ratio:.2f}x (goal <= {GOAL}x: {verdict})")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
