"""Cost of writing rows to 3 PostgreSQL replicas instead of 1, in the same run.

Three throwaway clusters; each round empties the tables, then times a verified
upsert of ROWS rows through ``replicate`` to one replica and to all three
(order alternates between rounds so neither variant always runs warm).
Goal: 3 replicas take at most 1.3x the time of 1.

    .venv/bin/python benchmarks/bench_sql.py [--rows 20000] [--rounds 5] [--batch-size N]
        [--wan-mbit 20]

``--wan-mbit N`` repeats the comparison with each cluster in its own network namespace
behind its own N Mbit/s link (tbf, each way), as separate regions would be.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack, suppress
from typing import Any

import sqlalchemy as sa

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.replication import replicate
from airflow_spof.hooks.backend import TableBackend, Timeouts
from airflow_spof.hooks.sql_backend import COPY_BATCH_SIZE, SqlBackend
from airflow_spof.hooks.sql_connection import dispose_engines
from airflow_spof.hooks.sql_rows import SharedRows
from airflow_spof.testing.postgres import PostgresCluster
from airflow_spof.testing.shaped_link import ShapedLink

TABLE = "bench_orders"
GOAL = 1.3


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


def server_cpu(clusters: list[PostgresCluster]) -> dict[int, float]:
    """CPU seconds so far of every process of the clusters (postmaster and its children)."""
    import psutil

    used: dict[int, float] = {}
    for cluster in clusters:
        postmaster = psutil.Process(
            int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        )
        for process in (postmaster, *postmaster.children(recursive=True)):
            with suppress(psutil.NoSuchProcess):
                used[process.pid] = sum(process.cpu_times()[:2])
    return used


def timed_write(
    replicas: Replicas,
    backends: dict[str, TableBackend],
    rows: list[Any],
    clusters: list[PostgresCluster],
) -> tuple[float, float, float]:
    """Wall time, this process's CPU time (client side: SQLAlchemy, driver, hashing) and the
    servers' CPU time (processes alive at the end: the pooled connections' backends).

    The rows are shared as ``ReplicatedHook.write_rows`` shares them: hashed once when sent.
    """
    servers = server_cpu(clusters)
    started, cpu = time.perf_counter(), time.process_time()
    shared = SharedRows(rows)
    report = replicate(replicas, lambda ep: backends[ep.name].upsert(shared), item=TABLE)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = sum(t - servers.get(pid, 0.0) for pid, t in server_cpu(clusters).items())
    if report.lagging or len({o.checksum for o in report.outcomes}) != 1:
        raise RuntimeError(f"benchmark write did not reach every replica: {report.to_dict()}")
    return elapsed, cpu, server


def measure(args: argparse.Namespace, wan_mbit: float | None) -> float:
    """One comparison on fresh clusters (each behind its own shaped link with ``wan_mbit``);
    prints it and returns the ratio."""
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    clusters: list[PostgresCluster] = []
    with ExitStack() as stack:
        try:
            for index in range(3):
                if wan_mbit:
                    link = stack.enter_context(ShapedLink(index, wan_mbit))
                    cluster = PostgresCluster(host=link.address, command_prefix=link.command_prefix)
                else:
                    cluster = PostgresCluster()
                clusters.append(cluster)
                cluster.init().start()
            samples = compare(args, clusters)
        finally:
            dispose_engines()
            for cluster in clusters:
                cluster.destroy()

    wall = {k: statistics.median(w for w, _, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c, _ in v) for k, v in samples.items()}
    server = {k: statistics.median(s for _, _, s in v) for k, v in samples.items()}
    ratio = wall["3 replicas"] / wall["1 replica"]
    where = f"each cluster behind its own {wan_mbit:g} Mbit/s link" if wan_mbit else "loopback"
    size = args.batch_size or f"backend default ({COPY_BATCH_SIZE} through COPY)"
    print(f"rows: {args.rows}, batch size: {size}, rounds: {args.rounds} (median)")
    print(f"{where}; cores: {os.cpu_count()}, load average before: {load}")
    print("| variant | wall time | rows/s (per replica) | client CPU | server CPU |")
    print("| --- | --- | --- | --- | --- |")
    for label in ("1 replica", "3 replicas"):
        print(
            f"| {label} | {wall[label]:.3f} s | {args.rows / wall[label]:,.0f} "
            f"| {cpu[label]:.3f} s | {server[label]:.3f} s |"
        )
    verdict = "met" if ratio <= GOAL else "NOT met"
    print(f"ratio 3/1: {ratio:.2f}x (goal <= {GOAL}x: {verdict})")
    return ratio


def compare(
    args: argparse.Namespace, clusters: list[PostgresCluster]
) -> dict[str, list[tuple[float, float, float]]]:
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
                options={"table": TABLE, "key": ["id"], "batch_size": args.batch_size or None},
            )
        )
    backends: dict[str, TableBackend] = {
        ep.name: SqlBackend(ep, Timeouts(connect=5, read=120)) for ep in endpoints
    }
    one = Replicas(endpoints[0], write_consistency="all")
    three = Replicas(*endpoints, write_consistency="all")
    rows = make_rows(args.rows)
    truncate(list(backends.values()))
    timed_write(three, backends, rows[:1000], clusters)  # warm up pools and statement caches

    samples: dict[str, list[tuple[float, float, float]]] = {"1 replica": [], "3 replicas": []}
    for round_ in range(args.rounds):
        variants = [("1 replica", one), ("3 replicas", three)]
        for label, replicas in variants if round_ % 2 == 0 else reversed(variants):
            truncate(list(backends.values()))
            samples[label].append(timed_write(replicas, backends, rows, clusters))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="rows per batch (default: the backend's)"
    )
    parser.add_argument(
        "--wan-mbit",
        type=float,
        help="also run with each cluster in its own network namespace behind its own "
        "N Mbit/s tbf-shaped link (root, ip and tc needed)",
    )
    args = parser.parse_args()
    ratio = measure(args, None)
    if args.wan_mbit:
        measure(args, args.wan_mbit)
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
