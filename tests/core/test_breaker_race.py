"""Eight processes race for one half-open breaker: exactly one trial per round, 50 rounds."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import sqlalchemy as sa

from airflow_spof.core.breaker import Admission, BreakerPolicy, CircuitBreakers
from airflow_spof.core.state import StateStore

PROCESSES = 8
ROUNDS = 50
POLICY = BreakerPolicy(failure_threshold=1, cooldown=0, trial_lease=3600)


def _contender(url: str, start: Any, done: Any, results: Any) -> None:
    breakers = CircuitBreakers(StateStore.from_url(url), POLICY)
    for _ in range(ROUNDS):
        start.wait()
        results.put(breakers.admit("shared") is Admission.TRIAL)
        done.wait()
    breakers.store.dispose()


def _race(url: str) -> list[int]:
    store = StateStore.from_url(url)
    store.ensure_schema()
    breakers = CircuitBreakers(store, POLICY)
    ctx = mp.get_context("fork")
    start, done = ctx.Barrier(PROCESSES + 1), ctx.Barrier(PROCESSES + 1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_contender, args=(url, start, done, results)) for _ in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    trials_per_round = []
    try:
        for _ in range(ROUNDS):
            breakers.record_success("shared")
            assert breakers.record_failure("shared", "outage")  # open, trial due at once
            start.wait(timeout=60)
            trials_per_round.append(sum(results.get(timeout=60) for _ in range(PROCESSES)))
            done.wait(timeout=60)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        store.dispose()
    assert all(p.exitcode == 0 for p in procs)
    return trials_per_round


def test_exactly_one_trial_per_round_on_sqlite(tmp_path) -> None:
    assert _race(f"sqlite:///{tmp_path / 'race.db'}") == [1] * ROUNDS


def test_exactly_one_trial_per_round_on_postgres(postgres) -> None:
    engine = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS race"))
        conn.execute(sa.text("CREATE DATABASE race"))
    engine.dispose()
    assert _race(postgres.url.rsplit("/", 1)[0] + "/race") == [1] * ROUNDS
