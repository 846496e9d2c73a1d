"""Two real S3 regions (moto_server processes) and a directory replica.

The regions live for the session; a test that kills one gets it restarted
(empty) afterwards. Each test gets fresh buckets, so a restart loses nothing
another test needs. Connections are ``AIRFLOW_CONN_*`` variables whose
password is a planted secret that must never show up in any message.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_spof.core.endpoints import Consistency, Endpoint, Replicas, fs, s3
from airflow_spof.core.fanout import FanOut
from airflow_spof.core.replication import WriteAck
from airflow_spof.testing.moto_region import MotoRegion

PLANTED_SECRET = "planted-Secret-8d1f4c27e9"
CONN_IDS = {"us-east-1": "spof_use1", "eu-west-1": "spof_euw1"}
MiB = 1024 * 1024
PART = 5 * MiB


@pytest.fixture(scope="session")
def regions() -> Iterator[dict[str, MotoRegion]]:
    started: dict[str, MotoRegion] = {}
    try:
        for name in CONN_IDS:
            started[name] = MotoRegion(region_name=name).start()
        with pytest.MonkeyPatch.context() as mp:
            for name, region in started.items():
                mp.setenv(*region.connection_env(CONN_IDS[name], secret_key=PLANTED_SECRET))
            yield started
    finally:
        for region in started.values():
            region.stop()


@pytest.fixture
def live_regions(regions: dict[str, MotoRegion]) -> Iterator[dict[str, MotoRegion]]:
    """The session's regions; any region the test killed is brought back afterwards."""
    yield regions
    for region in regions.values():
        if not region.running:
            region.restart()


@dataclass
class Replica3:
    """Fresh buckets in both regions plus a directory: three replicas of one data set."""

    use1: Endpoint
    euw1: Endpoint
    local: Endpoint
    bucket: str
    regions: dict[str, MotoRegion]

    @property
    def all(self) -> tuple[Endpoint, Endpoint, Endpoint]:
        return (self.use1, self.euw1, self.local)

    def replicas(self, consistency: Consistency = "quorum") -> Replicas:
        return Replicas(*self.all, write_consistency=consistency)


@pytest.fixture
def replicas3(live_regions: dict[str, MotoRegion], tmp_path: Path) -> Replica3:
    bucket = f"spof-{uuid.uuid4().hex[:12]}"
    endpoints = {}
    for name, region in live_regions.items():
        region.create_bucket(bucket)
        endpoints[name] = s3(CONN_IDS[name], bucket=bucket, region=name, prefix="data")
    directory = tmp_path / "replica"
    directory.mkdir()
    return Replica3(
        use1=endpoints["us-east-1"],
        euw1=endpoints["eu-west-1"],
        local=fs(str(directory), region="onprem"),
        bucket=bucket,
        regions=live_regions,
    )


def fan_writer(
    fan: FanOut, order: Iterable[Endpoint], write: Callable[[Endpoint, Iterator[bytes]], WriteAck]
) -> Callable[[Endpoint], WriteAck]:
    """A per-replica write for ``replicate`` that feeds each replica its own fan-out stream.

    A writer that fails before reading its stream must still release it,
    or the producer would wait on that replica until the stall timeout.
    """
    index = {ep.name: i for i, ep in enumerate(order)}

    def run(endpoint: Endpoint) -> WriteAck:
        try:
            return write(endpoint, fan.stream(index[endpoint.name]))
        except BaseException:
            fan.abandon(index[endpoint.name])
            raise

    return run


class GatedSource:
    """A payload stream that pauses after ``before`` bytes until the test opens the gate."""

    def __init__(self, before: list[bytes], after: list[bytes]) -> None:
        self.before, self.after = before, after
        self.paused = threading.Event()
        self.gate = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield from self.before
        self.paused.set()
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        yield from self.after

    @property
    def content(self) -> bytes:
        return b"".join(self.before + self.after)


@pytest.fixture
def planted_secret() -> str:
    return PLANTED_SECRET


@pytest.fixture
def fanout_writer() -> Callable[..., Callable[[Endpoint], WriteAck]]:
    return fan_writer


@pytest.fixture
def gated_source() -> type[GatedSource]:
    return GatedSource
