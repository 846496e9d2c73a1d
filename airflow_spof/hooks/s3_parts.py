"""Multipart plumbing: parts made of the stream's own chunks, and part-for-part copies.

A part is a list of the chunks the fan-out handed over (the same ``bytes``
objects every replica receives), exposed to botocore as a seekable file.
Joining them would copy every part once per replica; this keeps the memory of
an N-replica upload close to N parts of chunk references.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Part:
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0

    def body(self) -> PartBody:
        return PartBody(self.chunks)


def take_part(stream: Iterator[bytes], size: int) -> Part:
    """Gather chunks from ``stream`` until ``size`` bytes or its end."""
    part = Part()
    for chunk in stream:
        part.chunks.append(chunk)
        part.size += len(chunk)
        if part.size >= size:
            break
    return part


class PartBody(io.RawIOBase):
    """A read-only, seekable file over a list of chunks (botocore rewinds after hashing)."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._starts: list[int] = []
        offset = 0
        for chunk in chunks:
            self._starts.append(offset)
            offset += len(chunk)
        self._size = offset
        self._pos = 0
        self._index = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        self._index = 0
        while self._index + 1 < len(self._chunks) and self._starts[self._index + 1] <= self._pos:
            self._index += 1
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        pieces: list[bytes] = []
        while size > 0 and self._pos < self._size:
            chunk = self._chunks[self._index]
            offset = self._pos - self._starts[self._index]
            piece = chunk[offset : offset + size] if offset or size < len(chunk) else chunk
            pieces.append(piece)
            self._pos += len(piece)
            size -= len(piece)
            if self._pos - self._starts[self._index] >= len(chunk):
                self._index = min(self._index + 1, len(self._chunks) - 1)
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __len__(self) -> int:
        return self._size


def copy_part_for_part(
    client: Any,
    bucket: str,
    source_key: str,
    target_key: str,
    metadata: Mapping[str, str],
    parts: list[dict[str, Any]],
    sizes: list[int],
) -> None:
    """Copy an object of more than 5 GiB (CopyObject's limit) with the same part boundaries.

    Same boundaries, same per-part SHA-256: the copy's composite checksum equals
    the one verified on the source. Any failure aborts the copy's upload.
    """
    upload = client.create_multipart_upload(
        Bucket=bucket, Key=target_key, ChecksumAlgorithm="SHA256", Metadata=dict(metadata)
    )["UploadId"]
    try:
        copied, offset = [], 0
        for part, length in zip(parts, sizes, strict=True):
            result = client.upload_part_copy(
                Bucket=bucket,
                Key=target_key,
                UploadId=upload,
                PartNumber=part["PartNumber"],
                CopySource={"Bucket": bucket, "Key": source_key},
                CopySourceRange=f"bytes={offset}-{offset + length - 1}",
            )["CopyPartResult"]
            copied.append({**part, "ETag": result["ETag"]})
            offset += length
        client.complete_multipart_upload(
            Bucket=bucket, Key=target_key, UploadId=upload, MultipartUpload={"Parts": copied}
        )
    except BaseException:
        with contextlib.suppress(Exception):
            client.abort_multipart_upload(Bucket=bucket, Key=target_key, UploadId=upload)
        raise
