"""``airflow-spof drill`` via real dag.test(): one region down passes, no replica left fails."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"
DAGS = ("--dags-folder", str(EXAMPLE_DAGS))


def test_drill_with_the_primary_region_down_passes_and_converges(world, spof) -> None:
    code, report, _ = spof(
        "drill", "failover_drill", "--fault", "region:us-east-1=down", *DAGS, "--json"
    )
    assert code == 0, report["reasons"]
    assert report["passed"] and report["run_state"] == "success"
    assert report["time_to_recover_s"] > 0
    assert report["dag_reported_time_to_recover_s"] is not None
    sets = {rs["replica_set"]: rs for rs in report["replica_sets"]}
    assert set(sets) == {"landing", "curated_orders"}
    curated = sets["curated_orders"]
    assert curated["converged"] and len(set(curated["fingerprints"].values())) == 1
    assert len(curated["fingerprints"]) == 3


def test_drill_fails_clearly_when_every_replica_of_a_set_is_down(world, spof) -> None:
    code, report, _ = spof(
        "drill",
        "failover_drill",
        "--fault",
        "region:us-east-1=down",
        "--fault",
        "region:eu-west-1=down",
        *DAGS,
        "--json",
    )
    assert code == 1
    assert not report["passed"] and report["run_state"] == "failed"
    [reason] = report["reasons"]
    assert reason.startswith("task drill failed: AllEndpointsFailed")
    assert (
        "s3:aws_use1/orders-landing-use1" in reason and "s3:aws_euw1/orders-landing-euw1" in reason
    )
    assert "endpoint is down" in reason


def test_a_pipeline_without_its_own_fault_param_holds_the_fault_for_the_whole_run(
    world, spof
) -> None:
    world.land_orders(f"{datetime.now(timezone.utc):%Y-%m-%d}")  # the drill runs for today
    code, report, _ = spof(
        "drill", "resilient_orders_etl", "--fault", "conn:aws_use1=error", *DAGS, "--json"
    )
    assert code == 0, report["reasons"]
    assert report["task_states"]["curate_orders"] == "success"
    sets = {rs["replica_set"]: rs for rs in report["replica_sets"]}
    assert {"landing", "curated_orders", "warehouse_orders"} <= set(sets)
    assert sets["curated_orders"]["repaired"] >= 1  # the replica that missed the write
    assert all(rs["converged"] for rs in sets.values())


def test_bad_fault_syntax_is_a_usage_error(spof) -> None:
    code, _, err = spof("drill", "failover_drill", "--fault", "region:us-east-1=sideways", *DAGS)
    assert code == 2
    assert "bad fault kind 'sideways'" in err and "down, hang, slow:<N>s" in err


def test_a_fault_matching_no_endpoint_is_a_usage_error(world, spof) -> None:
    code, _, err = spof("drill", "failover_drill", "--fault", "region:ap-south-1=down", *DAGS)
    assert code == 2
    assert "fault region:ap-south-1=down matches no endpoint of DAG 'failover_drill'" in err
    assert "region:us-east-1" in err  # the message lists what would match


def test_unknown_dag_is_a_usage_error(world, spof) -> None:
    code, _, err = spof("drill", "no_such_dag", "--fault", "region:us-east-1=down", *DAGS)
    assert code == 2 and "no DAG 'no_such_dag'" in err and "failover_drill" in err
