"""SHA-256 of a fanned-out payload, computed once for all the replicas it goes to.

Every replica of a write receives the same chunk objects from one fan-out, so
hashing them once per replica repeats work the writers then fight over the
CPU for. :class:`SharedDigest` hashes the whole content as it leaves the
source (in the fan-out's producer thread) and each part range the first time
a replica asks for it; the replicas still verify what their server stored
against these digests, one by one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence

from airflow_spof.core.errors import ChecksumMismatch
from airflow_spof.core.once import Once


class SharedDigest:
    """Whole-content SHA-256 and byte count of one stream, plus memoised range digests."""

    def __init__(self) -> None:
        self._whole = hashlib.sha256()
        self.size = 0
        self.complete = False
        self._ranges: Once[tuple[int, int], bytes] = Once()

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass ``chunks`` through (as immutable, non-empty ``bytes``) while hashing them.

        Mutable chunks are copied once here, so no replica can see bytes
        that differ from the ones hashed.
        """
        for chunk in chunks:
            if chunk:
                data = chunk if type(chunk) is bytes else bytes(chunk)
                self._whole.update(data)
                self.size += len(data)
                yield data
        self.complete = True

    def hexdigest(self, received: int, where: str) -> str:
        """The whole-content digest, once a replica has read the entire stream.

        ``received`` is the byte count that replica got: a digest of other
        bytes than the ones it wrote must never be acknowledged.
        """
        if not self.complete or received != self.size:
            state = "whole" if self.complete else "unfinished"
            raise ChecksumMismatch(
                f"{where} (bytes received vs {state} stream)", str(self.size), str(received)
            )
        return self._whole.hexdigest()

    def range_digest(self, start: int, chunks: Sequence[bytes]) -> bytes:
        """SHA-256 of ``chunks``, the bytes at offset ``start`` of the stream.

        The first replica to reach a range hashes it and the others wait for
        its result rather than hash the same bytes again; a replica with other
        part boundaries asks for other ranges and hashes them itself.
        """
        return self._ranges.get((start, sum(len(c) for c in chunks)), lambda: _sha256(chunks))


class DigestedChunks:
    """One replica's chunk stream together with the digest shared by every replica."""

    def __init__(self, chunks: Iterable[bytes], digest: SharedDigest) -> None:
        self.chunks = chunks
        self.digest = digest

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)


def digested(chunks: Iterable[bytes]) -> tuple[Iterator[bytes], SharedDigest]:
    """The chunks to write and their digest: the shared one if the fan-out computed it,
    else one computed here as the chunks pass (a single writer, e.g. repair)."""
    if isinstance(chunks, DigestedChunks):
        return iter(chunks.chunks), chunks.digest
    digest = SharedDigest()
    return digest.feed(chunks), digest


def _sha256(chunks: Iterable[bytes]) -> bytes:
    sha = hashlib.sha256()
    for chunk in chunks:
        sha.update(chunk)
    return sha.digest()
