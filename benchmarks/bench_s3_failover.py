"""Failover latency for S3 reads with the primary refused or black-holed.

The secondary is a healthy moto region; the primary is either a port nobody
listens on (connection refused) or a FaultProxy that accepts and never
answers (black hole). Breakers live in a SQLite StateStore:

- cold breaker: closed, so the primary is tried and must fail first.
  Goal: time to the secondary's answer <= timeout + 50 ms.
- open breaker: the primary is skipped. Goal: <= 5 ms added over reading
  the secondary directly (measured as interleaved pairs, so machine load
  drifting during the run cancels out).

    .venv/bin/python benchmarks/bench_s3_failover.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="spof-bench-home-"))
os.environ["AIRFLOW__SPOF__CHAOS_VARIABLE"] = "false"

from airflow_spof.core.breaker import BreakerPolicy, CircuitBreakers
from airflow_spof.core.endpoints import Endpoint, s3
from airflow_spof.core.failover import FailoverPolicy, failover
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.s3_backend import S3Backend
from airflow_spof.testing.fault_proxy import FaultProxy, Mode
from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.waiting import free_port

TIMEOUT = 0.5
RUNS = 7
FAST_RUNS = 41  # open-breaker and direct reads are cheap: more samples, less noise
BUCKET = "spof-failover"
KEY = "object.bin"


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def paired_added_ms(fn: Callable[[], object], baseline: Callable[[], object]) -> float:
    """Median of (fn - baseline) over interleaved pairs: robust to load drifting mid-run."""
    diffs = []
    for _ in range(FAST_RUNS):
        diffs.append(median_ms(fn, runs=1) - median_ms(baseline, runs=1))
    return statistics.median(diffs)


def main() -> int:
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=TIMEOUT))
    timeouts = Timeouts(connect=TIMEOUT, read=TIMEOUT)
    with (
        tempfile.TemporaryDirectory() as tmp,
        MotoRegion(region_name="eu-west-1") as region,
        FaultProxy(region.port) as proxy,
    ):
        region.create_bucket(BUCKET)
        proxy.set_mode(Mode.BLACKHOLE)
        os.environ.__setitem__(*region.connection_env("secondary"))
        os.environ.__setitem__(
            *region.connection_env("refused", endpoint_url=f"http://127.0.0.1:{free_port()}")
        )
        os.environ.__setitem__(*region.connection_env("blackholed", endpoint_url=proxy.url))
        secondary = s3("secondary", bucket=BUCKET, region="eu-west-1")
        primaries = {
            "refused": s3("refused", bucket=BUCKET, region="us-east-1"),
            "black-holed": s3("blackholed", bucket=BUCKET, region="us-east-1"),
        }
        backends = {ep.name: S3Backend(ep, timeouts) for ep in (secondary, *primaries.values())}
        backends[secondary.name].write(KEY, [b"x" * 64 * 1024])

        def read(ep: Endpoint) -> bytes:
            return b"".join(backends[ep.name].read(KEY))

        read(secondary)  # warm the connection pool
        direct = median_ms(lambda: read(secondary), runs=FAST_RUNS)
        print(
            f"timeout {TIMEOUT * 1000:.0f} ms; read of the secondary directly "
            f"(baseline): {direct:.1f} ms; cold: median of {RUNS} runs, "
            f"open: median of {FAST_RUNS} interleaved pairs"
        )
        print(f"{'primary':<13}{'breaker':<8}{'to answer':>12}{'added':>11}  goal")
        for label, primary in primaries.items():
            for breaker in ("cold", "open"):
                store = StateStore.from_url(f"sqlite:///{Path(tmp) / f'{label}-{breaker}.db'}")
                breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=3600))

                def attempt(breakers: CircuitBreakers = breakers, primary: Endpoint = primary):
                    value, report = failover(
                        [primary, secondary], read, breakers=breakers, policy=policy
                    )
                    assert report.served_by == secondary.name and value

                if breaker == "cold":
                    samples = []
                    for _ in range(RUNS):
                        breakers.record_success(primary.name)  # close it again
                        samples.append(median_ms(attempt, runs=1))
                    took = statistics.median(samples)
                    goal = TIMEOUT * 1000 + 50
                    verdict = f"<= timeout + 50 ms ({goal:.0f}): " + (
                        "met" if took <= goal else "NOT met"
                    )
                    added = took - direct
                else:
                    attempt()  # opens the breaker
                    added = paired_added_ms(attempt, lambda: read(secondary))
                    took = direct + added
                    verdict = "<= 5 ms added: " + ("met" if added <= 5 else "NOT met")
                print(f"{label:<13}{breaker:<8}{took:>10.1f}ms{added:>9.1f}ms  {verdict}")
                store.dispose()
    print("reproduce: .venv/bin/python benchmarks/bench_s3_failover.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
