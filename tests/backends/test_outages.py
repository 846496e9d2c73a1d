"""Real outages: regions killed before and during writes, black holes, leaked secrets."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time

import pytest

from airflow_spof.core.endpoints import Endpoint, Replicas, s3
from airflow_spof.core.errors import ErrorClass, classify
from airflow_spof.core.failover import FailoverPolicy, failover
from airflow_spof.core.fanout import FanOut
from airflow_spof.core.replication import ConsistencyNotReached, replicate
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.hooks.backend import ObjectBackend, Timeouts, open_backend
from airflow_spof.hooks.s3_backend import S3Backend
from airflow_spof.testing.fault_proxy import FaultProxy, Mode
from airflow_spof.testing.moto_region import conn_env_name
from airflow_spof.testing.waiting import wait_until

MiB = 1024 * 1024
PART = 5 * MiB
TIMEOUT = 0.5


def backends_for(endpoints: tuple[Endpoint, ...], timeout: float = 2.0) -> dict[str, ObjectBackend]:
    opened: dict[str, ObjectBackend] = {}
    for ep in endpoints:
        if ep.kind == "s3":
            opened[ep.name] = S3Backend(ep, Timeouts(connect=timeout, read=timeout), part_size=PART)
        else:
            backend = open_backend(ep)
            assert isinstance(backend, ObjectBackend)
            opened[ep.name] = backend
    return opened


def replicated_write(replicas: Replicas, backends, key: str, source, fanout_writer, **kwargs):
    fan = FanOut(source, consumers=len(replicas), stall_timeout=10)
    write = fanout_writer(fan, replicas, lambda ep, stream: backends[ep.name].write(key, stream))
    secrets = [s for b in backends.values() for s in b.secrets]
    return replicate(replicas, write, item=key, secrets=secrets, **kwargs)


@pytest.mark.parametrize(
    ("consistency", "reached"), [("one", True), ("quorum", True), ("all", False)]
)
def test_region_killed_before_write(
    replicas3, fanout_writer, consistency: str, reached: bool
) -> None:
    backends = backends_for(replicas3.all)
    replicas3.regions["eu-west-1"].kill()
    replicas = replicas3.replicas(consistency)
    data = b"row\n" * 5000
    if not reached:
        with pytest.raises(ConsistencyNotReached) as err:
            replicated_write(replicas, backends, "k", [data], fanout_writer)
        report = err.value.report
    else:
        report = replicated_write(replicas, backends, "k", [data], fanout_writer)
    assert report.acknowledged == [replicas3.use1.name, replicas3.local.name]
    dead = next(o for o in report.outcomes if o.endpoint == replicas3.euw1.name)
    assert dead.error_class is ErrorClass.TRANSIENT and "EndpointConnectionError" in dead.message
    for name in report.acknowledged:
        assert b"".join(backends[name].read("k")) == data


def test_region_killed_during_multipart_write(replicas3, fanout_writer, gated_source) -> None:
    """The kill lands between two parts: deterministic through a gated source, no sleeps."""
    backends = backends_for(replicas3.all)
    source = gated_source([b"a" * PART], [b"b" * PART, b"c" * 1000])
    region = replicas3.regions["eu-west-1"]
    raw = region.client()

    def first_part_stored() -> bool:
        uploads = raw.list_multipart_uploads(Bucket=replicas3.bucket).get("Uploads", [])
        return any(
            raw.list_parts(Bucket=replicas3.bucket, Key=u["Key"], UploadId=u["UploadId"]).get(
                "Parts"
            )
            for u in uploads
        )

    outcome: dict[str, object] = {}
    writer = threading.Thread(
        target=lambda: outcome.update(
            report=replicated_write(
                replicas3.replicas("quorum"), backends, "big.bin", source, fanout_writer
            )
        )
    )
    writer.start()
    wait_until(first_part_stored, timeout=20, what="part 1 stored in eu-west-1")
    region.kill()
    source.gate.set()
    writer.join(30)
    report = outcome["report"]
    assert report.acknowledged == [replicas3.use1.name, replicas3.local.name]  # type: ignore[attr-defined]
    expected = hashlib.sha256(source.content).hexdigest()
    for name in report.acknowledged:  # type: ignore[attr-defined]
        assert backends[name].checksum("big.bin") == expected
    region.restart()
    region.create_bucket(replicas3.bucket)
    assert backends[replicas3.euw1.name].inventory() == {}
    assert not region.client().list_objects_v2(Bucket=replicas3.bucket).get("Contents")


@pytest.fixture
def black_hole(replicas3, monkeypatch):
    """eu-west-1 seen through a proxy that accepts connections and never answers."""
    region = replicas3.regions["eu-west-1"]
    proxy = FaultProxy(region.port).start()
    monkeypatch.setenv(*region.connection_env("spof_hole", endpoint_url=proxy.url))
    try:
        yield proxy, s3("spof_hole", bucket=replicas3.bucket, region="eu-west-1", prefix="data")
    finally:
        proxy.stop()


def test_black_holed_primary_fails_over_within_timeout(replicas3, black_hole) -> None:
    proxy, hole = black_hole
    endpoints = (hole, replicas3.use1)
    backends = backends_for(endpoints, timeout=TIMEOUT)
    backends[replicas3.use1.name].write("k", [b"payload"])
    backends[hole.name].probe()  # through the proxy while it still passes traffic
    proxy.set_mode(Mode.BLACKHOLE)
    policy = FailoverPolicy(retry=RetryPolicy(attempts=1, attempt_timeout=TIMEOUT))
    started = time.monotonic()
    value, report = failover(
        endpoints, lambda ep: b"".join(backends[ep.name].read("k")), policy=policy
    )
    elapsed = time.monotonic() - started
    assert value == b"payload"
    assert report.served_by == replicas3.use1.name
    assert report.attempts[0].error_class is ErrorClass.TRANSIENT
    print(f"black-holed primary: served by the next endpoint after {elapsed * 1000:.0f} ms")
    assert elapsed <= TIMEOUT + 0.1, f"failover took {elapsed:.3f}s"


@pytest.mark.parametrize("mode", [Mode.RESET, Mode.CLOSE])
def test_proxy_reset_and_close_fail_fast_and_transient(replicas3, black_hole, mode) -> None:
    proxy, hole = black_hole
    backend = backends_for((hole,), timeout=5)[hole.name]
    backend.probe()
    proxy.set_mode(mode)
    started = time.monotonic()
    with pytest.raises(Exception) as err:
        backend.probe()
    assert time.monotonic() - started < 1.0
    assert classify(err.value) is ErrorClass.TRANSIENT
    proxy.set_mode(Mode.PASS)
    backend.probe()


def test_planted_credentials_never_leak(replicas3, fanout_writer, planted_secret, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    backends = backends_for(replicas3.all)
    assert planted_secret in backends[replicas3.use1.name].secrets
    replicas3.regions["eu-west-1"].kill()
    replicas3.regions["us-east-1"].kill()
    with pytest.raises(ConsistencyNotReached) as err:
        replicated_write(replicas3.replicas("quorum"), backends, "k", [b"x" * 10], fanout_writer)
    s3_backends = [backends[replicas3.use1.name], backends[replicas3.euw1.name]]
    with pytest.raises(Exception) as read_err:
        failover(
            [b.endpoint for b in s3_backends],
            lambda ep: b"".join(backends[ep.name].read("k")),
            policy=FailoverPolicy(retry=RetryPolicy(attempts=1)),
            secrets=[s for b in s3_backends for s in b.secrets],
        )
    texts = [
        str(err.value),
        json.dumps(err.value.report.to_dict()),
        str(read_err.value),
        json.dumps(read_err.value.report.to_dict()),  # type: ignore[attr-defined]
        caplog.text,
    ]
    assert all(planted_secret not in text for text in texts)
    assert "EndpointConnectionError" in texts[0]
    from airflow.sdk.log import redact  # what real task logs go through

    assert redact(f"key={planted_secret}!") == "key=***!"


def test_connection_comes_from_airflow_env(replicas3, planted_secret) -> None:
    conn = json.loads(os.environ[conn_env_name("spof_use1")])
    assert conn["password"] == planted_secret
    backend = S3Backend(replicas3.use1)
    assert backend.client.meta.endpoint_url == replicas3.regions["us-east-1"].endpoint_url
