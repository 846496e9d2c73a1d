"""Helpers shared by the object backends (S3, filesystem): keys, hashing, verified streams."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Iterator

from airflow_spof.core.errors import ChecksumMismatch, InvalidData, PermanentError

RESERVED_PREFIX = ".spof"  # staging objects, temp files and checksum sidecars live here


class InvalidKey(PermanentError):
    """A key that could escape the endpoint's root or clash with our own bookkeeping."""


class ObjectMissing(InvalidData):
    """The object is not on this replica.

    In a replica set a missing object means this replica missed a write (it
    lags until repair), so a reader must try the next replica instead of
    failing fast; missing everywhere still fails, naming every replica.
    """


def clean_key(key: str, where: str) -> str:
    """Return ``key`` as a normalised relative path, or raise :class:`InvalidKey`.

    Rejected: empty keys, absolute keys, ``..`` segments, NUL bytes, backslashes
    and any segment starting with ``.spof`` (ours). Rejecting (rather than
    normalising ``a/../b``) keeps one object from having several names.
    """
    if not isinstance(key, str) or not key.strip("/"):
        raise InvalidKey(f"{where}: empty object key {key!r}")
    if "\x00" in key or "\\" in key:
        raise InvalidKey(f"{where}: object key {key!r} contains NUL or a backslash")
    if key.startswith("/"):
        raise InvalidKey(f"{where}: object key {key!r} is absolute; use a relative key")
    parts = key.split("/")
    if any(part in ("..", ".") for part in parts):
        raise InvalidKey(f"{where}: object key {key!r} contains '.' or '..' (path traversal)")
    if any(part.startswith(RESERVED_PREFIX) for part in parts):
        raise InvalidKey(
            f"{where}: object key {key!r} uses the reserved name prefix {RESERVED_PREFIX!r}"
        )
    return posixpath.normpath(key)


class Sha256Stream:
    """Pass chunks through while hashing them and counting bytes."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                self._hash.update(chunk)
                self.size += len(chunk)
                yield bytes(chunk)

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def verified(chunks: Iterable[bytes], expected: str | None, where: str) -> Iterator[bytes]:
    """Yield ``chunks``; after the last one raise :class:`ChecksumMismatch` if the hash differs.

    The caller sees the data as it streams and learns only at the end whether
    it may keep it, so a consumer must commit nothing before the stream ends.
    """
    stream = Sha256Stream(chunks)
    yield from stream
    if expected is not None and stream.hexdigest != expected:
        raise ChecksumMismatch(where, expected, stream.hexdigest)


def sha256_of(chunks: Iterable[bytes]) -> str:
    stream = Sha256Stream(chunks)
    for _ in stream:
        pass
    return stream.hexdigest
