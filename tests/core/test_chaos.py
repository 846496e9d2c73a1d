"""Fault specifications are parsed strictly wherever they come from."""

from __future__ import annotations

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import fs


@pytest.fixture
def spof_faults_variable(monkeypatch: pytest.MonkeyPatch):
    """Set the Airflow Variable ``spof_faults`` (through Airflow's environment backend)."""
    monkeypatch.delenv(chaos.FAULTS_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW__SPOF__CHAOS_VARIABLE", raising=False)
    monkeypatch.setattr(chaos, "_variable_cache", (0.0, ()))

    def set_to(text: str) -> None:
        monkeypatch.setenv(f"AIRFLOW_VAR_{chaos.FAULTS_VARIABLE.upper()}", text)

    return set_to


def test_the_faults_variable_is_read(spof_faults_variable, tmp_path) -> None:
    spof_faults_variable("a=down")
    assert chaos.faults_for(fs(str(tmp_path), name="a")) == [chaos.Fault("a", "down")]


def test_a_typo_in_the_faults_variable_is_an_error_not_no_fault(
    spof_faults_variable, tmp_path
) -> None:
    """A drill run with ``a=dwon`` must not pass quietly with no fault injected."""
    spof_faults_variable("a=dwon")
    with pytest.raises(chaos.FaultSyntaxError, match=r"spof_faults.*'dwon'"):
        chaos.faults_for(fs(str(tmp_path), name="a"))
