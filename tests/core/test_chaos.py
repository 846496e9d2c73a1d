"""Fault specifications: strict where a process sets them, fail-open from the shared Variable."""

from __future__ import annotations

import logging
import re

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


def test_a_typo_in_the_faults_variable_is_logged_and_injects_nothing(
    spof_faults_variable, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A drill setting with ``a=dwon`` must not fail every pipeline of the deployment, nor
    pass unnoticed: it injects nothing and says why, naming the Variable."""
    spof_faults_variable("a=dwon")
    with caplog.at_level(logging.ERROR, logger=chaos.__name__):
        assert chaos.faults_for(fs(str(tmp_path), name="a")) == []
    assert re.search(r"spof_faults ignored, no fault injected: .*'dwon'", caplog.text)


def test_a_typo_in_the_faults_environment_variable_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv(chaos.FAULTS_ENV, "a=dwon")
    with pytest.raises(chaos.FaultSyntaxError, match="'dwon'"):
        chaos.faults_for(fs(str(tmp_path), name="a"))
