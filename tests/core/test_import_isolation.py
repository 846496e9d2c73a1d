"""The core must stay engine-agnostic: importing it may not pull in Airflow."""

import subprocess
import sys

import pytest

PROBE = """
import sys
import {module}
leaked = sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow."))
print(",".join(leaked))
"""


@pytest.mark.parametrize("module", ["airflow_spof.core", "airflow_spof"])
def test_core_imports_no_airflow_module(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"{module} imported Airflow modules: {out.stdout}"


def test_bare_operators_and_sensors_are_not_importable(tmp_path) -> None:
    for name in ("operators", "sensors"):
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=tmp_path
        )
        assert result.returncode != 0, f"a bare `{name}` module is importable"


def test_mapped_packages_import_from_any_directory(tmp_path) -> None:
    code = (
        "import airflow_spof.operators as o, airflow_spof.sensors as s; "
        "print(o.__name__, s.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.split() == ["airflow_spof.operators", "airflow_spof.sensors"], out.stderr


LAZY_PROBE = """
import sys
import airflow_spof, airflow_spof.core, airflow_spof.lint.cli
print("sqlalchemy" in sys.modules)
from airflow_spof import Replicas, fs, s3, sql
from airflow_spof.core import CircuitBreakers, StateStore, failover, replicate
import airflow_spof.core.failover
from airflow_spof.core import failover as again
print(callable(again) and again is failover and "sqlalchemy" in sys.modules)
print(Replicas(s3("a", bucket="b", region="r1"), fs("/mnt/x", region="r2")).endpoints[0].kind)
"""


def test_package_exports_are_lazy_and_stable() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "s3"], out.stderr
