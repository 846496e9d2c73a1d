"""The shared breaker's state machine, checked against a model, on a real store."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from airflow_spof.core.breaker import Admission, BreakerPolicy, BreakerState, CircuitBreakers
from airflow_spof.core.state import StateStore
from airflow_spof.testing.waiting import wait_until

ENDPOINTS = ("primary", "secondary")


class BreakerModel(RuleBasedStateMachine):
    """cooldown=0: an open breaker offers its trial at once; the lease never expires here."""

    @initialize(threshold=st.integers(1, 4))
    def setup(self, threshold: int) -> None:
        self.tmp = tempfile.mkdtemp()
        self.store = StateStore.from_url(f"sqlite:///{Path(self.tmp) / 'b.db'}")
        self.breakers = CircuitBreakers(
            self.store, BreakerPolicy(failure_threshold=threshold, cooldown=0, trial_lease=3600)
        )
        self.threshold = threshold
        self.model = {ep: ["closed", 0] for ep in ENDPOINTS}

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.dispose()

    @rule(ep=st.sampled_from(ENDPOINTS))
    def failure(self, ep: str) -> None:
        opened = self.breakers.record_failure(ep, "boom")
        state, failures = self.model[ep]
        failures += 1
        should_open = state == "half_open" or (state == "closed" and failures >= self.threshold)
        assert opened == should_open
        self.model[ep] = ["open" if should_open else state, failures]

    @rule(ep=st.sampled_from(ENDPOINTS))
    def success(self, ep: str) -> None:
        self.breakers.record_success(ep)
        self.model[ep] = ["closed", 0]

    @rule(ep=st.sampled_from(ENDPOINTS))
    def admit(self, ep: str) -> None:
        admission = self.breakers.admit(ep)
        state = self.model[ep][0]
        expected = {
            "closed": Admission.ALLOWED,
            "open": Admission.TRIAL,
            "half_open": Admission.REJECTED,
        }[state]
        assert admission is expected
        if state == "open":
            self.model[ep][0] = "half_open"

    @invariant()
    def store_matches_model(self) -> None:
        statuses = self.breakers.statuses(list(ENDPOINTS))
        for ep, (state, failures) in self.model.items():
            status = statuses.get(ep)
            assert (status.state.value if status else "closed") == state
            assert (status.consecutive_failures if status else 0) == failures


TestBreakerModel = BreakerModel.TestCase
TestBreakerModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


def test_open_breaker_rejects_until_cooldown_then_offers_one_trial(store: StateStore) -> None:
    breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=2, cooldown=0.3))
    assert not breakers.record_failure("db", "refused")
    assert breakers.record_failure("db", "refused")
    assert breakers.admit("db") is Admission.REJECTED
    assert breakers.statuses(["db"])["db"].reopens_in(breakers.policy) > 0
    wait_until(lambda: breakers.admit("db") is Admission.TRIAL, timeout=5, what="half-open trial")
    assert breakers.admit("db") is Admission.REJECTED  # the trial is taken
    breakers.record_success("db")
    assert breakers.admit("db") is Admission.ALLOWED


def test_a_failed_trial_reopens(store: StateStore) -> None:
    breakers = CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=0))
    breakers.record_failure("db")
    assert breakers.admit("db") is Admission.TRIAL
    assert breakers.record_failure("db")
    assert breakers.statuses(["db"])["db"].state is BreakerState.OPEN


def test_an_abandoned_trial_is_offered_again_after_its_lease(store: StateStore) -> None:
    breakers = CircuitBreakers(
        store, BreakerPolicy(failure_threshold=1, cooldown=0, trial_lease=0.2)
    )
    breakers.record_failure("db")
    assert breakers.admit("db") is Admission.TRIAL  # this holder then dies silently
    wait_until(lambda: breakers.admit("db") is Admission.TRIAL, timeout=5, what="lease expiry")


def test_a_new_breaker_object_never_resets_shared_state(store: StateStore) -> None:
    CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=60)).record_failure("db")
    fresh = CircuitBreakers(
        StateStore(store.engine), BreakerPolicy(failure_threshold=1, cooldown=60)
    )
    assert fresh.admit("db") is Admission.REJECTED


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(failure_threshold=0)
