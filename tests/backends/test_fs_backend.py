"""FsBackend on a real directory: atomic, verified, idempotent, confined to its root."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from airflow_spof import chaos
from airflow_spof.core.endpoints import fs
from airflow_spof.core.errors import ChecksumMismatch, ErrorClass, classify
from airflow_spof.hooks.backend import ObjectBackend, open_backend
from airflow_spof.hooks.fs_backend import FsBackend
from airflow_spof.hooks.objects import InvalidKey, ObjectMissing


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "replica"
    directory.mkdir()
    return directory


@pytest.fixture
def backend(root: Path) -> FsBackend:
    opened = open_backend(fs(str(root), region="onprem"))
    assert isinstance(opened, FsBackend) and isinstance(opened, ObjectBackend)
    return opened


def user_files(root: Path) -> list[str]:
    """Everything under the root except our checksum sidecars."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".spof" not in p.relative_to(root).parts
    )


def test_write_read_checksum_inventory(backend: FsBackend, root: Path) -> None:
    backend.probe()
    data = os.urandom(3 * 1024 * 1024 + 7)
    ack = backend.write("2024/01/orders.bin", [data[:1000], data[1000:]])
    digest = hashlib.sha256(data).hexdigest()
    assert (ack.checksum, ack.size) == (digest, len(data))
    assert (root / "2024/01/orders.bin").read_bytes() == data
    assert b"".join(backend.read("2024/01/orders.bin")) == data
    assert backend.checksum("2024/01/orders.bin") == digest
    assert backend.checksum("missing") is None
    with pytest.raises(ObjectMissing):
        backend.read("missing")
    backend.write("top.txt", [b"x"])
    assert backend.inventory() == {
        "2024/01/orders.bin": digest,
        "top.txt": hashlib.sha256(b"x").hexdigest(),
    }
    assert list(backend.inventory("2024/")) == ["2024/01/orders.bin"]
    assert user_files(root) == ["2024/01/orders.bin", "top.txt"]  # no temp files left


def test_rerun_changes_nothing(backend: FsBackend, root: Path) -> None:
    first = backend.write("a/b.bin", [b"same content"])
    stat = (root / "a/b.bin").stat()
    assert backend.write("a/b.bin", [b"same ", b"content"]) == first
    again = (root / "a/b.bin").stat()
    assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert user_files(root) == ["a/b.bin"]


def test_foreign_file_without_sidecar_is_hashed(backend: FsBackend, root: Path) -> None:
    (root / "dropped.csv").write_bytes(b"put here by hand")
    digest = hashlib.sha256(b"put here by hand").hexdigest()
    assert backend.checksum("dropped.csv") == digest
    assert backend.inventory() == {"dropped.csv": digest}
    assert b"".join(backend.read("dropped.csv")) == b"put here by hand"


def test_bit_rot_behind_our_back_is_detected_on_read(backend: FsBackend, root: Path) -> None:
    backend.write("k", [b"precious"])
    (root / "k").write_bytes(b"pre_ious")
    with pytest.raises(ChecksumMismatch):
        b"".join(backend.read("k"))


def test_corrupted_read_is_detected(backend: FsBackend) -> None:
    backend.write("k", [b"precious"])
    with chaos.inject(f"{backend.endpoint.name}=corrupt"), pytest.raises(ChecksumMismatch) as err:
        b"".join(backend.read("k"))
    assert classify(err.value) is ErrorClass.INVALID_DATA


def test_corrupted_write_is_caught_before_it_replaces_the_old_file(
    backend: FsBackend, root: Path
) -> None:
    backend.write("k", [b"version 1"])
    with chaos.inject(f"{backend.endpoint.name}=corrupt"), pytest.raises(ChecksumMismatch):
        backend.write("k", [b"version 2"])
    assert (root / "k").read_bytes() == b"version 1"
    assert b"".join(backend.read("k")) == b"version 1"
    assert user_files(root) == ["k"]


def test_failing_source_leaves_the_old_file(backend: FsBackend, root: Path) -> None:
    backend.write("k", [b"version 1"])

    def broken():
        yield b"half of version 2"
        raise OSError("source went away")

    with pytest.raises(OSError, match="went away"):
        backend.write("k", broken())
    assert (root / "k").read_bytes() == b"version 1"
    assert user_files(root) == ["k"]


@pytest.mark.parametrize(
    "key", ["../outside", "/etc/passwd", "a/../../outside", "a/./b", "", ".spof/sha256/k"]
)
def test_path_traversal_is_rejected(backend: FsBackend, key: str) -> None:
    for operation in (lambda: backend.write(key, [b"x"]), lambda: backend.read(key)):
        with pytest.raises(InvalidKey) as err:
            operation()
        assert classify(err.value) is ErrorClass.PERMANENT


def test_symlink_escape_is_rejected(backend: FsBackend, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InvalidKey, match="outside"):
        backend.write("link/pwned", [b"x"])
    assert list(outside.iterdir()) == []


def test_missing_directory_fails_probe_permanently(tmp_path: Path) -> None:
    backend = FsBackend(fs(str(tmp_path / "nope")))
    with pytest.raises(FileNotFoundError) as err:
        backend.probe()
    assert classify(err.value) is ErrorClass.PERMANENT
