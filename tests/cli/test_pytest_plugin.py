"""The users' pytest plugin, used the way a user would: a test file of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"

pytest_plugins = ["pytester"]


def test_fixtures_drill_a_dag_and_report_survival_and_failure(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
import pytest
from pathlib import Path

@pytest.fixture(scope="session")
def spof_dags_folder():
    return Path({str(EXAMPLE_DAGS)!r})
"""
    )
    pytester.makepyfile(
        """
import pytest
from airflow_spof.testing.pytest_plugin import assert_survives

def test_survives_the_primary_region(spof_example_env, spof_drill):
    report = spof_drill("failover_drill", faults=["region:us-east-1=down"])
    assert_survives(report)
    assert {c.replica_set for c in report.replica_sets} == {"landing", "curated_orders"}

def test_losing_both_regions_fails_with_the_reason(spof_example_env, spof_drill):
    report = spof_drill(
        "failover_drill", faults=["region:us-east-1=down", "region:eu-west-1=down"]
    )
    with pytest.raises(pytest.fail.Exception, match="AllEndpointsFailed"):
        assert_survives(report)
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
