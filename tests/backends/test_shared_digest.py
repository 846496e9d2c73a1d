"""One payload hashed once for all replicas; every replica still verifies what it stored."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.errors import ChecksumMismatch, ErrorClass
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.fs_backend import FsBackend
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.hooks.s3_backend import S3Backend
from airflow_spof.hooks.shared_digest import DigestedChunks, SharedDigest

MiB = 1024 * 1024


def payload(size: int) -> bytes:
    block = hashlib.sha256(b"shared").digest() * 32768
    return (block * (size // len(block) + 1))[:size]


def with_options(endpoint: Endpoint, **options: Any) -> Endpoint:
    return Endpoint.from_dict({**endpoint.to_dict(), "options": {**endpoint.options, **options}})


def make_hook(replicas: Replicas, tmp_path) -> ReplicatedHook:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    return ReplicatedHook(
        replicas,
        store=store,
        timeouts=Timeouts(connect=2, read=10),
        straggler_timeout=10,
        event_context={},
    )


def stored(replicas3, region: str, key: str) -> bytes | None:
    client = replicas3.regions[region].client()
    try:
        body = client.get_object(Bucket=replicas3.bucket, Key=f"data/{key}")["Body"]
    except client.exceptions.NoSuchKey:
        return None
    return bytes(body.read())


def test_range_digest_is_computed_once_for_concurrent_replicas() -> None:
    """Replicas reaching the same part boundary share one hash of it."""
    chunks = [payload(MiB), payload(MiB)[::-1]]
    passes: list[int] = []

    class Counted(list[bytes]):
        def __iter__(self) -> Iterator[bytes]:
            passes.append(1)
            return super().__iter__()

    digest = SharedDigest()
    part = Counted(chunks)
    start = threading.Barrier(3)
    results: list[bytes] = []

    def replica() -> None:
        start.wait()
        results.append(digest.range_digest(0, part))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [hashlib.sha256(b"".join(chunks)).digest()] * 3
    assert len(passes) == 3 + 1  # each caller measures the range; one of them hashes it
    other = digest.range_digest(1, part)  # another boundary is another range
    assert other == results[0] and len(passes) == 3 + 1 + 2


def test_every_replica_acknowledges_the_one_shared_digest(replicas3, tmp_path) -> None:
    """Replicas with different part boundaries still agree, each verified by its server."""
    data = payload(13 * MiB + 17)
    use1 = with_options(replicas3.use1, part_size=5 * MiB)
    euw1 = with_options(replicas3.euw1, part_size=6 * MiB)
    hook = make_hook(Replicas(use1, euw1, replicas3.local, write_consistency="all"), tmp_path)
    report = hook.write("big.bin", data)
    expected = hashlib.sha256(data).hexdigest()
    outcomes = [(o.ok, o.checksum, o.size) for o in report.outcomes]
    assert outcomes == [(True, expected, len(data))] * 3
    assert stored(replicas3, "us-east-1", "big.bin") == data
    assert stored(replicas3, "eu-west-1", "big.bin") == data


@pytest.mark.parametrize("size", [1000, 11 * MiB], ids=["put", "multipart"])
def test_a_corrupted_replica_write_is_still_caught(replicas3, tmp_path, size: int) -> None:
    """The shared digest does not vouch for a replica: its server's checksum must match it."""
    data = payload(size)
    hook = make_hook(replicas3.replicas("quorum"), tmp_path)
    with chaos.inject(f"{replicas3.euw1.name}=corrupt"):
        report = hook.write("k.bin", data)
    outcomes = {o.endpoint: o for o in report.outcomes}
    assert outcomes[replicas3.euw1.name].error_class is ErrorClass.INVALID_DATA
    assert outcomes[replicas3.use1.name].ok and outcomes[replicas3.local.name].ok
    assert stored(replicas3, "us-east-1", "k.bin") == data
    client = replicas3.regions["eu-west-1"].client()
    assert not client.list_objects_v2(Bucket=replicas3.bucket).get("Contents")  # no staging
    assert not client.list_multipart_uploads(Bucket=replicas3.bucket).get("Uploads")


def test_a_reused_source_buffer_cannot_split_the_replicas(replicas3, tmp_path) -> None:
    """A reader that refills one bytearray: the fan-out hashes and hands out a frozen copy."""
    original = payload(12 * MiB)

    def refilled() -> Iterator[bytearray]:
        buffer = bytearray(MiB)
        for start in range(0, len(original), MiB):
            buffer[:] = original[start : start + MiB]
            yield buffer

    hook = make_hook(replicas3.replicas("all"), tmp_path)
    report = hook.write("buffer.bin", refilled())
    assert {o.checksum for o in report.outcomes} == {hashlib.sha256(original).hexdigest()}
    assert stored(replicas3, "us-east-1", "buffer.bin") == original
    assert Path(replicas3.local.location, "buffer.bin").read_bytes() == original


@pytest.mark.parametrize("size", [1000, 6 * MiB], ids=["put", "multipart"])
def test_a_digest_of_other_bytes_is_refused(replicas3, size: int) -> None:
    """A stream paired with a digest of a longer stream: nothing may be acknowledged."""
    digest = SharedDigest()
    data = payload(size)
    for _ in digest.feed([data, b"one more chunk"]):
        pass
    backend = S3Backend(replicas3.use1, Timeouts(connect=2, read=10), part_size=5 * MiB)
    with pytest.raises(ChecksumMismatch):
        backend.write("k.bin", DigestedChunks([data], digest))
    with pytest.raises(ChecksumMismatch):
        FsBackend(replicas3.local).write("k.bin", DigestedChunks([data], digest))
    assert stored(replicas3, "us-east-1", "k.bin") is None
    assert FsBackend(replicas3.local).checksum("k.bin") is None


def test_bodies_are_covered_by_the_signed_checksum_not_a_second_payload_hash(
    replicas3, monkeypatch
) -> None:
    """No SigV4 payload hash over http; the checksum header is signed and the server echoes it."""
    conn = replicas3.regions["us-east-1"].connection()
    conn["extra"]["config_kwargs"] = {"s3": {"addressing_style": "path"}}
    monkeypatch.setenv("AIRFLOW_CONN_SPOF_SIGNED", json.dumps(conn))
    endpoint = with_options(replicas3.use1, part_size=5 * MiB)
    endpoint = Endpoint.from_dict({**endpoint.to_dict(), "conn_id": "spof_signed"})
    backend = S3Backend(endpoint, Timeouts(connect=2, read=10))
    assert backend.client.meta.config.s3 == {
        "addressing_style": "path",  # the connection's own s3 options survive
        "payload_signing_enabled": False,
    }
    sent: list[dict[str, str]] = []
    backend.client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        ),
    )
    data = payload(1000)
    ack = backend.write("signed.bin", [data])
    assert ack.checksum == hashlib.sha256(data).hexdigest()
    (headers,) = sent
    assert headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amz-checksum-sha256" in signed
