"""Weekly failover drill: lose a region on purpose, prove the pipeline survives and heals.

It writes a canary to the landing replicas, takes us-east-1 down (fault
injection honoured by every backend), copies the canary through the
fallback region into the curated replicas at quorum, brings the region
back, repairs, and checks every replica holds identical bytes. The time
from outage to converged replicas is the drill's result.

The outage is a param: trigger with ``{"spof_faults": [...]}`` (or run
``airflow-spof drill failover_drill --fault ...``) to rehearse another one.
"""

import time
from datetime import timedelta

from airflow.sdk import Param, dag, task
from replica_sets import CURATED, LANDING

from airflow_spof import chaos
from airflow_spof.hooks.replicated import ReplicatedHook

OUTAGE = "region:us-east-1=down"


@dag(
    schedule="@weekly",
    catchup=False,
    default_args={"retries": 1, "execution_timeout": timedelta(minutes=15)},
    tags=["airflow-spof", "example", "drill"],
    params={
        "spof_faults": Param(
            [OUTAGE], type="array", description="faults held while the canary is copied"
        )
    },
)
def failover_drill():
    @task
    def drill(params=None, ds=None, run_id=None) -> dict:
        key = f"drills/{ds}/canary.csv"
        canary = f"order_id,customer,amount\n1,drill-{run_id},0\n".encode()
        landing, curated = ReplicatedHook(LANDING), ReplicatedHook(CURATED)
        landing.write(key, canary)

        outage_started = time.monotonic()
        with chaos.inject(*params["spof_faults"]):
            replication, failover = landing.copy_to(key, curated)
        if not failover.fell_back or not replication.degraded:
            raise RuntimeError(f"the drill did not exercise a failover: {failover.to_dict()}")

        repair = curated.repair(prefix="drills/")
        checksums = curated.checksums(key)
        if len(set(checksums.values())) != 1 or None in checksums.values():
            raise RuntimeError(f"replicas did not converge after repair: {checksums}")
        return {
            "served_by": failover.served_by,
            "lagging_during_outage": replication.lagging,
            "repaired": repair.repaired,
            "time_to_recover_s": round(time.monotonic() - outage_started, 3),
        }

    drill()


failover_drill()
