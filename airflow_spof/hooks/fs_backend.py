"""Filesystem replicas: a local or mounted directory holding objects as files.

Writes are atomic: bytes go to a temp file in the target's directory, are
fsynced and re-read to verify them, then renamed over the target, and the
directory is fsynced. A reader sees the old file or the new one, never half.

Checksums live in a sidecar tree (``<root>/.spof/sha256/<key>``) instead of
being recomputed: a checksum computed from the bytes on disk at read time can
never disagree with them, so it would not detect bit rot or a file replaced
behind our back. Files without a sidecar (put there by someone else) are
hashed on demand. A crash between the data rename and the sidecar rename
leaves a mismatch that reads report as invalid data and repair rewrites.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from airflow_spof import chaos
from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import ChecksumMismatch, PermanentError
from airflow_spof.core.replication import WriteAck
from airflow_spof.hooks.backend import Timeouts, register_backend
from airflow_spof.hooks.objects import (
    RESERVED_PREFIX,
    InvalidKey,
    ObjectMissing,
    clean_key,
    sha256_of,
    verified,
)
from airflow_spof.hooks.shared_digest import digested

CHUNK = 1024 * 1024
_SUMS = Path(RESERVED_PREFIX, "sha256")
_TMP = ".spof-tmp-"


class FsBackend:
    """Objects as files under ``endpoint.location``; keys are relative POSIX paths."""

    secrets: tuple[str, ...] = ()

    def __init__(self, endpoint: Endpoint, timeouts: Timeouts | None = None) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self.root = Path(endpoint.options.get("path") or endpoint.location)
        prefix = str(endpoint.options.get("prefix") or "").strip("/")
        self._prefix = clean_key(prefix, endpoint.name) if prefix else ""

    def probe(self) -> None:
        """The root exists, is a directory and is writable."""
        chaos.before(self.endpoint, "probe", timeout=self.timeouts.connect)
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.endpoint.name}: directory {self.root} does not exist")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{self.endpoint.name}: directory {self.root} is not writable")

    def read(self, key: str) -> Iterator[bytes]:
        chaos.before(self.endpoint, "read", timeout=self.timeouts.read)
        path = self._path(key)
        try:
            chunks = _file_chunks(path)  # opens now: a missing object fails here, not mid-stream
        except FileNotFoundError:
            raise ObjectMissing(f"{self.endpoint.name}: no object {key!r} in {self.root}") from None
        expected = self._stored_sum(key)
        where = f"{self.endpoint.name}: {key}"
        return verified(chaos.corrupt_chunks(self.endpoint, chunks), expected, where)

    def write(self, key: str, chunks: Iterable[bytes]) -> WriteAck:
        chaos.before(self.endpoint, "write", timeout=self.timeouts.read)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f"{_TMP}{uuid.uuid4().hex}"
        try:
            stream, shared = digested(chunks)
            size = 0
            with open(tmp, "wb") as out:
                for chunk in chaos.corrupt_chunks(self.endpoint, stream):
                    size += out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            where = f"{self.endpoint.name}: write of {key}"
            digest = shared.hexdigest(size, where)
            written = sha256_of(_file_chunks(tmp))  # this replica's own check, from disk
            if written != digest:
                raise ChecksumMismatch(where, digest, written)
            if self._unchanged(key, target, digest):
                return WriteAck(digest, size)  # a re-run changes nothing
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            self._store_sum(key, digest)
            return WriteAck(digest, size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def checksum(self, key: str) -> str | None:
        chaos.before(self.endpoint, "checksum", timeout=self.timeouts.read)
        path = self._path(key)
        if not path.is_file():
            return None
        return self._stored_sum(key) or sha256_of(_file_chunks(path))

    def inventory(self, prefix: str = "") -> dict[str, str]:
        chaos.before(self.endpoint, "inventory", timeout=self.timeouts.read)
        base = self._base()
        result: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_PREFIX)]
            for filename in filenames:
                if filename.startswith(RESERVED_PREFIX):
                    continue
                key = Path(dirpath, filename).relative_to(base).as_posix()
                if key.startswith(prefix):
                    digest = self._stored_sum(key) or sha256_of(_file_chunks(base / key))
                    result[key] = digest
        return result

    def _unchanged(self, key: str, target: Path, digest: str) -> bool:
        """The target already holds exactly this content (checked on disk, not just the sidecar)."""
        if self._stored_sum(key) != digest or not target.is_file():
            return False
        return sha256_of(_file_chunks(target)) == digest

    # -- paths and sidecars -------------------------------------------------

    def _base(self) -> Path:
        return self.root / self._prefix if self._prefix else self.root

    def _path(self, key: str) -> Path:
        """The file for ``key``; a key that would leave the root (even via a symlink) fails."""
        relative = clean_key(key, self.endpoint.name)
        path = self._base() / relative
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise InvalidKey(
                f"{self.endpoint.name}: key {key!r} resolves outside {self.root} "
                "(symlink escape); refusing it"
            )
        return path

    def _sum_path(self, key: str) -> Path:
        return self._base() / _SUMS / clean_key(key, self.endpoint.name)

    def _stored_sum(self, key: str) -> str | None:
        try:
            return self._sum_path(key).read_text().strip() or None
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _store_sum(self, key: str, digest: str) -> None:
        path = self._sum_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f"{_TMP}{uuid.uuid4().hex}"
        with open(tmp, "w") as out:
            out.write(digest + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)


def _file_chunks(path: Path) -> Iterator[bytes]:
    """Open ``path`` now and return its chunks as a stream that closes the file at the end."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 -- closed by _drain when the stream ends
    except IsADirectoryError:
        raise PermanentError(f"{path} is a directory, not an object") from None
    return _drain(handle)


def _drain(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@register_backend("fs")
def _open_fs(endpoint: Endpoint, timeouts: Timeouts) -> FsBackend:
    return FsBackend(endpoint, timeouts)
