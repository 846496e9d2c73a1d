"""Ordered failover: breakers, health, retries, error classes, deadline, hedging, validation."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_spof.core.breaker import Admission, BreakerPolicy, CircuitBreakers
from airflow_spof.core.errors import ErrorClass, InvalidData, PermanentError
from airflow_spof.core.failover import (
    SNAPSHOT_FRESH_FOR,
    AllEndpointsFailed,
    FailoverPolicy,
    PermanentFailure,
    failover,
)
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore
from airflow_spof.testing.waiting import wait_until

ONE_TRY = FailoverPolicy(retry=RetryPolicy(attempts=1))


def serve(outcomes: dict[str, object]):
    """A call that returns or raises what ``outcomes`` says for each endpoint, and logs calls."""
    calls: list[str] = []

    def call(endpoint: str) -> object:
        calls.append(endpoint)
        result = outcomes[endpoint]
        if isinstance(result, BaseException):
            raise result
        return result

    return call, calls


def times_out_once():
    """A call that times out on its first try, then answers with the endpoint's name."""
    failures = iter([TimeoutError("slow"), None])

    def flaky(endpoint: str) -> str:
        error = next(failures)
        if error:
            raise error
        return endpoint

    return flaky


def test_healthy_primary_serves_and_report_says_so() -> None:
    call, calls = serve({"a": 1, "b": 2})
    value, report = failover(["a", "b"], call)
    assert (value, report.served_by, report.fell_back, calls) == (1, "a", False, ["a"])


def test_transient_failure_falls_back_and_names_why() -> None:
    call, _calls = serve({"a": ConnectionRefusedError("refused"), "b": 2})
    value, report = failover(["a", "b"], call, policy=ONE_TRY)
    assert value == 2 and report.served_by == "b" and report.fell_back
    assert report.fallback_from == ["a"]
    assert report.attempts[0].error_class is ErrorClass.TRANSIENT
    assert "refused" in report.attempts[0].message


def test_transient_errors_are_retried_on_the_same_endpoint_first() -> None:
    flaky = times_out_once()
    policy = FailoverPolicy(retry=RetryPolicy(attempts=2, backoff=0.001, jitter=0))
    value, report = failover(["a", "b"], flaky, policy=policy)
    assert value == "a" and [a.outcome for a in report.attempts] == ["failed", "ok"]


def test_permanent_error_fails_fast_without_trying_the_rest() -> None:
    call, calls = serve({"a": PermanentError("password authentication failed"), "b": 2})
    with pytest.raises(PermanentFailure, match="a: permanent error"):
        failover(["a", "b"], call)
    assert calls == ["a"]  # never retried, never failed over


def test_invalid_data_falls_back_without_retrying() -> None:
    def reject_negative(value: int) -> dict:
        if value < 0:
            raise InvalidData("quality gate: value must be >= 0")
        return {"success": True}

    call, calls = serve({"a": -1, "b": 5})
    value, report = failover(["a", "b"], call, validator=reject_negative)
    assert value == 5 and calls == ["a", "b"]
    assert report.attempts[0].error_class is ErrorClass.INVALID_DATA
    assert report.quality == {"success": True}


def test_all_failed_names_each_endpoint_and_reason() -> None:
    call, _ = serve({"a": ConnectionRefusedError("refused"), "b": TimeoutError("timed out")})
    with pytest.raises(AllEndpointsFailed) as err:
        failover(["a", "b"], call, policy=ONE_TRY)
    assert "a: transient: ConnectionRefusedError: refused" in str(err.value)
    assert "b: transient: TimeoutError: timed out" in str(err.value)


def test_open_breaker_is_skipped_and_shared_through_the_store(store: StateStore) -> None:
    policy = BreakerPolicy(failure_threshold=1, cooldown=60)
    call, calls = serve({"a": ConnectionRefusedError("refused"), "b": 2})
    failover(["a", "b"], call, breakers=CircuitBreakers(store, policy), policy=ONE_TRY)
    calls.clear()
    other_worker = CircuitBreakers(StateStore(store.engine), policy)
    value, report = failover(["a", "b"], call, breakers=other_worker, policy=ONE_TRY)
    assert value == 2 and calls == ["b"]
    assert report.attempts[0].outcome == "skipped" and report.attempts_at("a") == []


def test_when_every_breaker_is_open_the_least_recently_failed_is_still_tried(store) -> None:
    breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=60))
    breakers.record_failure("a")
    breakers.record_failure("b")  # b failed last
    call, calls = serve({"a": 1, "b": 2})
    value, _report = failover(["b", "a"], call, breakers=breakers)
    assert value == 1 and calls == ["a"]


def test_unhealthy_endpoint_from_a_probe_is_held_back(store) -> None:
    store.record_health("a", healthy=False, detail="probe: connection refused")
    call, calls = serve({"a": 1, "b": 2})
    value, report = failover(["a", "b"], call, breakers=CircuitBreakers(store))
    assert value == 2 and calls == ["b"]
    assert "unhealthy per probe" in report.attempts[0].message


def test_attempt_timeout_moves_on_from_a_hung_endpoint() -> None:
    hang = threading.Event()

    def call(endpoint: str) -> str:
        if endpoint == "a":
            hang.wait(30)
        return endpoint

    policy = FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=0.2))
    started = time.monotonic()
    try:
        value, report = failover(["a", "b"], call, policy=policy)
    finally:
        hang.set()
    assert value == "b" and time.monotonic() - started < 0.2 + 0.1
    assert report.attempts[0].error_class is ErrorClass.TRANSIENT


def test_deadline_bounds_the_whole_read() -> None:
    hang = threading.Event()
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=5), deadline=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(AllEndpointsFailed):
            failover(["a", "b"], lambda ep: hang.wait(30), policy=policy)
    finally:
        hang.set()
    assert time.monotonic() - started < 0.3 + 0.1


def test_a_try_cut_short_by_the_deadline_is_not_held_against_the_endpoint(store) -> None:
    """The read ran out of time, not the endpoint: its own attempt timeout (5 s) never
    expired, so its breaker must not open and turn other reads away from it."""
    hang = threading.Event()
    breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=60))
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=5), deadline=0.3)
    try:
        with pytest.raises(AllEndpointsFailed) as failed:
            failover(["a"], lambda ep: hang.wait(30), breakers=breakers, policy=policy)
    finally:
        hang.set()
    assert "deadline" in failed.value.report.attempts[0].message
    assert breakers.statuses(["a"])["a"].state == "closed"


def test_hedging_starts_the_next_endpoint_when_the_primary_is_slow() -> None:
    release = threading.Event()

    def call(endpoint: str) -> str:
        if endpoint == "a":
            release.wait(30)
        return endpoint

    policy = FailoverPolicy(retry=RetryPolicy(attempts=1), hedge_after=0.05)
    try:
        value, report = failover(["a", "b"], call, policy=policy)
    finally:
        release.set()
    assert value == "b" and report.served_by == "b"
    assert [a.hedged for a in report.attempts if a.endpoint == "b"] == [True]


def test_hedging_still_fails_over_on_errors_without_waiting() -> None:
    call, _ = serve({"a": ConnectionRefusedError("refused"), "b": 2})
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1), hedge_after=10)
    started = time.monotonic()
    value, _ = failover(["a", "b"], call, policy=policy)
    assert value == 2 and time.monotonic() - started < 1


def test_secrets_never_reach_the_report() -> None:
    error = ConnectionRefusedError("could not connect to postgresql://app:s3cr3t-pw@db:5432/x")
    call, _ = serve({"a": error, "b": 1})
    _, report = failover(["a", "b"], call, policy=ONE_TRY, secrets=["s3cr3t-pw"])
    assert "s3cr3t-pw" not in str(report.to_dict())


@settings(max_examples=60, deadline=None)
@given(pattern=st.lists(st.sampled_from(["ok", "transient", "invalid"]), min_size=1, max_size=6))
def test_first_good_endpoint_in_order_serves(pattern: list[str]) -> None:
    names = [f"e{i}" for i in range(len(pattern))]
    outcomes = {
        name: {"ok": name, "transient": TimeoutError("t"), "invalid": InvalidData("bad")}[kind]
        for name, kind in zip(names, pattern, strict=True)
    }
    call, calls = serve(outcomes)
    good = [n for n, kind in zip(names, pattern, strict=True) if kind == "ok"]
    if not good:
        with pytest.raises(AllEndpointsFailed):
            failover(names, call, policy=ONE_TRY)
        assert calls == names
        return
    value, report = failover(names, call, policy=ONE_TRY)
    assert value == good[0] and report.served_by == good[0]
    assert calls == names[: names.index(good[0]) + 1]
    assert report.fallback_from == names[: names.index(good[0])]


def test_a_hedged_win_reports_the_slow_primary_it_passed_over() -> None:
    """The hedged endpoint answers first: the report must say the read fell back from the slow
    primary (attempts in the order started, a failover event emitted), and must not change
    after it was returned when the abandoned primary finishes later."""
    release, finished = threading.Event(), threading.Event()

    def call(endpoint: str) -> str:
        if endpoint == "a":
            release.wait(30)
            finished.set()
        return endpoint

    events: list[tuple[str, dict]] = []
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1), hedge_after=0.05)
    try:
        value, report = failover(
            ["a", "b"], call, policy=policy, on_event=lambda k, **kw: events.append((k, kw))
        )
    finally:
        release.set()
    assert value == "b"
    assert [(a.endpoint, a.outcome) for a in report.attempts] == [("a", "failed"), ("b", "ok")]
    assert "b answered first" in report.attempts[0].message
    assert report.fell_back and report.fallback_from == ["a"]
    assert [kind for kind, _ in events] == ["failover"]
    snapshot = report.to_dict()
    assert finished.wait(10)
    for thread in [t for t in threading.enumerate() if t.name.startswith("spof-hedge")]:
        thread.join(timeout=10)
    assert report.to_dict() == snapshot


def test_a_retry_that_succeeds_on_the_same_endpoint_is_no_fallback() -> None:
    """An endpoint that served after a retry was not passed over; one retried before the
    next endpoint served was, once."""
    flaky = times_out_once()
    _, report = failover(["a", "b"], flaky)
    assert report.served_by == "a" and not report.fell_back
    assert report.fallback_from == []

    call, _ = serve({"a": TimeoutError("t"), "b": TimeoutError("t"), "c": "c"})
    _, report = failover(["a", "b", "c"], call)
    assert report.fallback_from == ["a", "b"]


def test_a_slow_success_resets_failures_other_workers_recorded_meanwhile(
    store: StateStore,
) -> None:
    """Failures must be consecutive: a success that ends after other workers' failures
    resets their count, even though this call's snapshot (taken at its start) was clean."""
    breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=3, cooldown=60))
    other_worker = CircuitBreakers(StateStore(store.engine), breakers.policy)
    started = time.monotonic()

    def slow_success(endpoint: str) -> str:
        other_worker.record_failure(endpoint, "timeout")
        other_worker.record_failure(endpoint, "timeout")
        # Outlive the snapshot: a longer call is where this race is likely.
        wait_until(lambda: time.monotonic() - started > SNAPSHOT_FRESH_FOR, timeout=10)
        return "ok"

    result, _ = failover(["db"], slow_success, breakers=breakers)

    assert result == "ok"
    assert breakers.statuses(["db"])["db"].consecutive_failures == 0
    other_worker.record_failure("db", "timeout")  # the next failure is the first in a row
    assert breakers.admit("db") is Admission.ALLOWED
