"""``airflow-spof status`` and ``repair`` against the shared state store and real regions."""

from __future__ import annotations

from pathlib import Path

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"
DAGS = ("--dags-folder", str(EXAMPLE_DAGS))
KEY = "orders/cli-repair.csv"


def _curated(world):
    import sys

    sys.path.append(str(EXAMPLE_DAGS))
    from replica_sets import CURATED

    return CURATED


def test_status_json_shows_breakers_health_and_hints(spof) -> None:
    from airflow_spof.settings import circuit_breakers, state_store

    store = state_store()
    store.record_health("s3:cli/status-probe", False, 12.5, "refused")
    store.add_hint("cli_status_set", "s3:cli/status-lagging", "orders/x.csv", "refused")
    breakers = circuit_breakers(store)
    for _ in range(breakers.policy.failure_threshold):
        breakers.record_failure("s3:cli/status-open", "ConnectionRefusedError")

    code, data, _ = spof("status", "--json")
    assert code == 0 and data["available"]
    [breaker] = [b for b in data["breakers"] if b["endpoint"] == "s3:cli/status-open"]
    assert breaker["state"] == "open" and breaker["reopens_in_s"] > 0
    [probe] = [h for h in data["health"] if h["endpoint"] == "s3:cli/status-probe"]
    assert probe["healthy"] is False and probe["detail"] == "refused"
    [hint] = [h for h in data["pending_hints"] if h["replica_set"] == "cli_status_set"]
    assert hint["endpoint"] == "s3:cli/status-lagging" and hint["item"] == "orders/x.csv"

    code, text, _ = spof("status")
    assert code == 0 and "s3:cli/status-open" in text and "Pending hints" in text


def test_repair_a_replica_set_by_name_converges_a_replica_that_was_down(world, spof) -> None:
    from airflow_spof.hooks.replicated import ReplicatedHook

    curated = _curated(world)
    world.regions["us-east-1"].kill()
    written = ReplicatedHook(curated, event_context={}).write(KEY, b"order_id\n1\n")
    assert written.lagging == ["s3:aws_use1/orders-curated-use1"]
    world.regions["us-east-1"].restart()
    world.create_buckets()

    code, data, _ = spof("repair", "curated_orders", *DAGS, "--json")
    assert code == 0
    [report] = data["replica_sets"]
    assert report["converged"] and data["kind"] == "replica set"
    assert {"endpoint": "s3:aws_use1/orders-curated-use1", "item": KEY} in [
        {"endpoint": r["endpoint"], "item": r["item"]} for r in report["repaired"]
    ]
    checksums = ReplicatedHook(curated, event_context={}).checksums(KEY)
    assert len(set(checksums.values())) == 1 and None not in checksums.values()


def test_repair_a_dag_repairs_every_replica_set_it_uses(world, spof) -> None:
    code, data, _ = spof("repair", "resilient_orders_etl", *DAGS, "--json")
    assert code == 0 and data["kind"] == "DAG"
    names = {r["replica_set"] for r in data["replica_sets"]}
    assert names == {"landing", "curated_orders", "warehouse_orders"}


def test_repair_reports_an_unreachable_replica_with_exit_code_1(world, spof) -> None:
    world.regions["eu-west-1"].kill()
    code, data, _ = spof("repair", "landing", *DAGS, "--json")
    assert code == 1
    [report] = data["replica_sets"]
    assert not report["converged"]
    assert "s3:aws_euw1/orders-landing-euw1" in report["unreachable"]


def test_repair_of_an_unknown_name_lists_what_exists(spof) -> None:
    code, _, err = spof("repair", "no_such_thing", *DAGS)
    assert code == 2
    assert "neither a replica set nor a DAG" in err and "curated_orders" in err
    assert "resilient_orders_etl" in err


def test_repair_with_an_undefined_connection_says_how_to_define_it(tmp_path, spof) -> None:
    (tmp_path / "orphan.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow_spof import Replicas, s3\n"
        "from airflow_spof.operators import ReplicaRepairOperator\n"
        "ORPHAN = Replicas(s3('cli_missing_a', bucket='a', region='r1'),\n"
        "                  s3('cli_missing_b', bucket='b', region='r2'), name='orphan')\n"
        "with DAG(dag_id='orphan_repair', schedule=None):\n"
        "    ReplicaRepairOperator(task_id='repair', replicas=ORPHAN)\n"
    )
    code, _, err = spof("repair", "orphan", "--dags-folder", str(tmp_path))
    assert code == 2
    assert "cli_missing_a" in err and "AIRFLOW_CONN_<ID>" in err


def test_missing_dags_folder_is_a_usage_error(tmp_path, spof) -> None:
    code, _, err = spof("repair", "landing", "--dags-folder", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err


def test_status_never_prints_the_state_store_password(tmp_path, spof, monkeypatch) -> None:
    """libpq also takes the password as a query parameter; it must be hidden there too."""
    url = f"sqlite:///{tmp_path / 'state.db'}?password=hunter2-in-query"
    monkeypatch.setenv("AIRFLOW__SPOF__STATE_STORE_URL", url)
    code, data, err = spof("status", "--json")
    assert code == 0 and "password=hidden" in data["state_store"]
    _, text, err_text = spof("status")
    assert "hunter2" not in f"{data}{err}{text}{err_text}"
