"""S3Backend against a real moto_server region: every operation, verified."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from airflow_spof import chaos
from airflow_spof.core.errors import ChecksumMismatch, ErrorClass, classify
from airflow_spof.hooks import s3_backend
from airflow_spof.hooks.backend import ObjectBackend, Timeouts, open_backend
from airflow_spof.hooks.objects import InvalidKey, ObjectMissing
from airflow_spof.hooks.s3_backend import META_SHA256, S3Backend

MiB = 1024 * 1024
PART = 5 * MiB


def chunks_of(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def big_payload(size: int = 2 * PART + 123) -> bytes:
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB of non-repeating-per-byte data
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def backend(replicas3) -> S3Backend:
    return S3Backend(replicas3.use1, Timeouts(connect=2, read=5), part_size=PART)


@pytest.fixture
def raw(replicas3):
    """A plain boto3 client on the same region, to look at what the server really holds."""
    return replicas3.regions["us-east-1"].client()


def all_keys(raw, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_opened_through_the_registry_and_implements_the_protocol(replicas3) -> None:
    backend = open_backend(replicas3.use1)
    assert isinstance(backend, S3Backend)
    assert isinstance(backend, ObjectBackend)
    assert backend.client.meta.config.retries["total_max_attempts"] == 1
    backend.probe()


def test_small_write_read_checksum_inventory(backend, raw, replicas3) -> None:
    data = b"order-1,42\n" * 1000
    ack = backend.write("2024/orders.csv", chunks_of(data, 1000))
    digest = hashlib.sha256(data).hexdigest()
    assert (ack.checksum, ack.size) == (digest, len(data))
    assert b"".join(backend.read("2024/orders.csv")) == data
    assert backend.checksum("2024/orders.csv") == digest
    assert backend.checksum("missing.csv") is None
    assert backend.inventory() == {"2024/orders.csv": digest}
    assert backend.inventory("2025/") == {}
    head = raw.head_object(Bucket=replicas3.bucket, Key="data/2024/orders.csv")
    assert head["Metadata"][META_SHA256] == digest  # stored under the endpoint's prefix


def write_big_and_check(backend, raw, bucket: str, data: bytes):
    """Write ``data`` as big.bin: the ack carries its SHA-256, it reads back whole, and no
    staging object or multipart upload is left behind."""
    ack = backend.write("big.bin", chunks_of(data))
    assert ack.checksum == hashlib.sha256(data).hexdigest()
    assert b"".join(backend.read("big.bin")) == data
    assert all_keys(raw, bucket) == ["data/big.bin"]
    assert not raw.list_multipart_uploads(Bucket=bucket).get("Uploads")
    return ack


def test_multipart_write_streams_verifies_and_leaves_no_staging(backend, raw, replicas3) -> None:
    data = big_payload()
    ack = write_big_and_check(backend, raw, replicas3.bucket, data)
    assert backend.inventory() == {"big.bin": ack.checksum}


@pytest.mark.parametrize("size", [1000, 2 * PART + 5], ids=["put", "multipart"])
def test_rerun_changes_nothing(backend, raw, replicas3, size: int) -> None:
    data = big_payload(size)
    first = backend.write("same.bin", chunks_of(data))
    before = raw.head_object(Bucket=replicas3.bucket, Key="data/same.bin")
    again = backend.write("same.bin", chunks_of(data))
    after = raw.head_object(Bucket=replicas3.bucket, Key="data/same.bin")
    assert again == first
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
    assert all_keys(raw, replicas3.bucket) == ["data/same.bin"]
    assert backend.inventory() == {"same.bin": first.checksum}


def test_overwrite_with_new_content_replaces_it(backend) -> None:
    backend.write("k", [b"old"])
    ack = backend.write("k", [b"new content"])
    assert b"".join(backend.read("k")) == b"new content"
    assert backend.checksum("k") == ack.checksum


def test_corrupted_read_is_detected(backend) -> None:
    backend.write("k", [b"precious bytes"])
    with chaos.inject(f"{backend.endpoint.name}=corrupt"), pytest.raises(ChecksumMismatch) as err:
        b"".join(backend.read("k"))
    assert classify(err.value) is ErrorClass.INVALID_DATA


def test_corrupted_small_write_is_caught_and_not_left_behind(backend, raw, replicas3) -> None:
    with chaos.inject(f"{backend.endpoint.name}=corrupt"), pytest.raises(ChecksumMismatch):
        backend.write("k", [b"precious bytes"])
    assert all_keys(raw, replicas3.bucket) == []


def test_corrupted_multipart_write_commits_nothing(backend, raw, replicas3) -> None:
    backend.write("big.bin", [b"previous version"])
    with chaos.inject(f"{backend.endpoint.name}=corrupt"), pytest.raises(ChecksumMismatch):
        backend.write("big.bin", chunks_of(big_payload()))
    assert all_keys(raw, replicas3.bucket) == ["data/big.bin"]
    assert b"".join(backend.read("big.bin")) == b"previous version"
    assert not raw.list_multipart_uploads(Bucket=replicas3.bucket).get("Uploads")


def test_objects_beyond_copy_object_limit_are_copied_part_for_part(
    backend, raw, replicas3, monkeypatch
) -> None:
    """Above 5 GiB CopyObject fails on S3; the part-for-part path keeps the verified checksum."""
    monkeypatch.setattr(s3_backend, "MAX_COPY_SIZE", 0)  # take that path with 10 MiB
    data = big_payload()
    write_big_and_check(backend, raw, replicas3.bucket, data)


def test_source_failing_mid_multipart_aborts_the_upload(backend, raw, replicas3) -> None:
    def broken() -> Iterator[bytes]:
        yield from chunks_of(big_payload(PART + 10))  # part 1 gets uploaded
        raise OSError("upstream file vanished")

    with pytest.raises(OSError, match="vanished"):
        backend.write("big.bin", broken())
    assert all_keys(raw, replicas3.bucket) == []
    assert not raw.list_multipart_uploads(Bucket=replicas3.bucket).get("Uploads")


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", ".spof/staging/x", ""])
def test_unsafe_keys_are_rejected(backend, key: str) -> None:
    with pytest.raises(InvalidKey) as err:
        backend.write(key, [b"x"])
    assert classify(err.value) is ErrorClass.PERMANENT


def test_error_classes(backend, replicas3) -> None:
    with pytest.raises(ObjectMissing) as missing_key:
        backend.read("nope")  # on one replica: it lags, so readers try the next one
    assert classify(missing_key.value) is ErrorClass.INVALID_DATA
    other = S3Backend(
        type(replicas3.use1)(**{**replicas3.use1.to_dict(), "options": {"bucket": "no-such-b"}}),
        Timeouts(connect=1, read=1),
    )
    with pytest.raises(Exception) as missing_bucket:
        other.write("k", [b"x"])
    assert classify(missing_bucket.value) is ErrorClass.PERMANENT
    with chaos.inject(f"{backend.endpoint.name}=down"), pytest.raises(ConnectionError) as down:
        backend.probe()
    assert classify(down.value) is ErrorClass.TRANSIENT


def test_dead_region_is_transient(backend, live_regions) -> None:
    live_regions["us-east-1"].kill()
    with pytest.raises(Exception) as err:
        backend.probe()
    assert type(err.value).__name__ == "EndpointConnectionError"
    assert classify(err.value) is ErrorClass.TRANSIENT
