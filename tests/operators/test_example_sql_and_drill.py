"""Cross-region SQL sync with a crashed warehouse, and the failover drill DAG (TaskFlow + hook)."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from airflow_spof.testing.dagrun import run_dag

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)
ORDERS = [
    {"order_id": i, "customer": f"c{i % 3}", "amount": float(i), "order_date": f"2026-11-2{i % 3}"}
    for i in range(1, 31)
]


def seed_orders(env) -> None:
    for conn_id in ("warehouse_use1", "warehouse_euw1", "warehouse_local"):
        engine = sa.create_engine(env.sql_url(conn_id))
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO orders VALUES (:order_id, :customer, :amount, :order_date)"),
                ORDERS,
            )
        engine.dispose()


def test_sql_sync_falls_back_from_a_crashed_warehouse_and_repair_converges(
    env, dagbag, warehouses
) -> None:
    seed_orders(env)
    warehouses["warehouse_use1"].stop("immediate")
    result = run_dag(dagbag.get_dag("cross_region_sql_sync"), DAY)
    assert result.succeeded, result.task_states
    report = result.xcoms["daily_revenue"]
    assert report["failover"]["served_by"] == "sql:warehouse_euw1/orders"
    assert report["replication"]["lagging"] == ["sql:warehouse_use1/daily_revenue"]
    assert len(env.rows("warehouse_euw1", "daily_revenue")) == 3

    warehouses["warehouse_use1"].start()
    assert env.rows("warehouse_use1", "daily_revenue") == []
    repair = run_dag(dagbag.get_dag("hourly_repair"), DAY)
    assert repair.succeeded, repair.task_states
    revenue = [
        env.rows(c, "daily_revenue")
        for c in ("warehouse_use1", "warehouse_euw1", "warehouse_local")
    ]
    assert revenue[0] == revenue[1] == revenue[2] and len(revenue[0]) == 3


def test_failover_drill_dag_survives_a_region_loss_and_converges(env, dagbag) -> None:
    result = run_dag(dagbag.get_dag("failover_drill"), DAY)
    assert result.succeeded, result.task_states
    outcome = result.xcoms["drill"]
    assert outcome["served_by"] == "s3:aws_euw1/orders-landing-euw1"
    assert outcome["lagging_during_outage"] == ["s3:aws_use1/orders-curated-use1"]
    assert [r["endpoint"] for r in outcome["repaired"]] == ["s3:aws_use1/orders-curated-use1"]
    assert outcome["time_to_recover_s"] > 0
