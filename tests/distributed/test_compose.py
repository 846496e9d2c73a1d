"""docker/ cannot run on CI machines: check the compose stack's structure instead.

Everything Docker would only tell us at ``docker compose up``: a service with
no healthcheck, a floating image, a ``${VAR}`` nobody sets, an undeclared
volume, connection ids that drift from the example DAGs, a Dockerfile that
ignores the constraints.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERFILE = DOCKER / "Dockerfile"
REPLICA_SETS = REPO / "dags" / "replica_sets.py"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, and bare $NAME.
VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}|(?P<bare>[A-Za-z_]\w*))"
)
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "worker-a",
    "worker-b",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def dotenv() -> dict[str, str]:
    """Variables a ``docker/.env`` defines (compose reads it from the project directory)."""
    path = DOCKER / ".env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.strip().startswith("#")}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's substitution with defaults (``$$`` is a literal ``$``); unset names fail."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        if name in env:
            return env[name]
        if match.group("op") in (":-", "-"):
            return match.group("arg")
        raise AssertionError(f"${{{name}}} has no default and no value in docker/.env")

    parts = text.split("$$")
    return "$".join(VARIABLE.sub(substitute, part) for part in parts)


def named_volumes(service: dict[str, Any]) -> list[str]:
    names = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                names.append(volume["source"])
            continue
        source = volume.split(":", 1)[0]
        if ":" in volume and not source.startswith((".", "/", "~", "$")):
            names.append(source)
    return names


def dag_connection_ids() -> set[str]:
    """Connection ids of ``s3(...)``/``sql(...)`` endpoints in dags/replica_sets.py, statically."""
    tree = ast.parse(REPLICA_SETS.read_text())
    ids = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"s3", "sql"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            ids.add(str(node.args[0].value))
    return ids


def dag_buckets() -> set[str]:
    tree = ast.parse(REPLICA_SETS.read_text())
    return {
        str(kw.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "s3"
        for kw in node.keywords
        if kw.arg == "bucket" and isinstance(kw.value, ast.Constant)
    }


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    missing = [
        name
        for name, service in services.items()
        if not (service.get("healthcheck") or {}).get("test")
        or service["healthcheck"].get("disable")
    ]
    assert not missing, f"services without a healthcheck: {missing}"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name}: no image (a build needs an image tag too)"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} floats on latest"
        if "build" in service:
            dockerfile = REPO / "docker" / ".." / service["build"]["dockerfile"]
            assert (DOCKER / service["build"]["context"]).resolve() == REPO
            assert dockerfile.resolve() == DOCKERFILE


def strings(node: Any) -> list[str]:
    """Every string value in the loaded file (comments are not interpolated, values are)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return []


def test_every_variable_has_a_value(compose: dict[str, Any]) -> None:
    values = strings(compose)
    referenced = {
        m.group("braced") or m.group("bare") for v in values for m in VARIABLE.finditer(v)
    }
    assert referenced, "expected the compose file to take settings from the environment"
    for value in values:
        interpolate(value, dotenv())  # raises on the first variable with no default


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        undeclared = set(named_volumes(service)) - declared
        assert not undeclared, f"{name}: volumes {sorted(undeclared)} not declared"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else ""
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name}: bind source {source} missing"


def test_dependencies_exist_and_wait_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}


def test_connections_match_the_example_dags(services: dict[str, dict[str, Any]]) -> None:
    wanted = dag_connection_ids()
    assert wanted >= {"aws_use1", "aws_euw1", "warehouse_use1", "warehouse_euw1"}
    for name in AIRFLOW_SERVICES:
        environment = services[name]["environment"]
        given = {
            k.removeprefix("AIRFLOW_CONN_").lower()
            for k in environment
            if k.startswith("AIRFLOW_CONN_")
        }
        assert given == wanted, f"{name}: connections {sorted(given)} != DAGs' {sorted(wanted)}"
        for key, value in environment.items():
            if key.startswith("AIRFLOW_CONN_"):
                connection = json.loads(interpolate(value, dotenv()))
                if connection["conn_type"] == "aws":
                    host = connection["extra"]["endpoint_url"].split("//")[1].split(":")[0]
                    assert host in services, f"{key} points at {host}, not a service"
                elif connection["conn_type"] == "postgres":
                    assert connection["host"] in services, f"{key}: no service {connection['host']}"


def test_minio_init_creates_the_dags_buckets(services: dict[str, dict[str, Any]]) -> None:
    script = " ".join(services["minio-init"]["command"])
    missing = [bucket for bucket in dag_buckets() if bucket not in script]
    assert not missing, f"minio-init does not create {missing}"


def test_two_celery_workers_share_default_and_one_private_queue_each(
    services: dict[str, dict[str, Any]],
) -> None:
    queues = {}
    for name in ("worker-a", "worker-b"):
        command = services[name]["command"].split()
        assert command[:2] == ["celery", "worker"]
        queues[name] = set(command[command.index("-q") + 1].split(","))
        assert services[name]["hostname"] == name
    assert queues == {"worker-a": {"default", "qa"}, "worker-b": {"default", "qb"}}
    env = services["worker-a"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "postgresql" in env["AIRFLOW__SPOF__STATE_STORE_URL"], "breakers must be shared"


def test_dags_are_mounted(services: dict[str, dict[str, Any]]) -> None:
    for name in AIRFLOW_SERVICES:
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert (DOCKER / mounts["/opt/airflow/dags"]).resolve() == REPO / "dags", name


def test_dockerfile_installs_with_the_constraints() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    base = next(line for line in lines if line.startswith("FROM "))
    assert re.fullmatch(r"FROM apache/airflow:3\.3\.\d+-python3\.\d+", base), base
    installs = [line for line in lines if line.startswith("RUN") and "pip install" in line]
    assert installs and all("-c /opt/airflow-spof/constraints.txt" in i for i in installs)
    assert any("constraints.txt" in line for line in lines if line.startswith("COPY"))
