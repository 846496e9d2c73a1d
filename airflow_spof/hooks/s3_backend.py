"""S3 (and S3-compatible) replicas through an Airflow ``aws`` connection.

Credentials, role assumption and ``endpoint_url`` come from the Amazon
provider's hook; we only set timeouts and exactly one botocore attempt per
call, so failover, not botocore, decides how long a dead region costs.

Integrity: every object carries the SHA-256 of its whole content in the
``spof-sha256`` metadata, and the server's own SHA-256 is compared with it
after each write, because S3-compatible servers (moto, some appliances) do not
reject a wrong checksum.

Large payloads stream through a multipart upload to a staging key
(``<prefix>/.spof/staging/<id>``) with a SHA-256 per part. Only once the
staged copy is complete and its parts verified is it copied onto the real key
with its full-content checksum (CopyObject with ``MetadataDirective=REPLACE``;
the server recomputes the full SHA-256 we verify). The real key therefore flips
atomically from the old verified version to the new verified one: there is no
window holding a partial, unverified or checksum-less object, which an
in-place copy after completion would have. Any failure aborts the upload and
deletes the staging object.

Client CPU: the whole-content and part digests come from :class:`SharedDigest`,
computed once per write for all replicas of a fan-out. Per request botocore
still hashes the body it sends into the signed ``x-amz-checksum-sha256``
header, which the server reports back and we compare with the shared digest:
that is each replica's own check, and a value we passed in ourselves would be
echoed unchecked by servers that do not verify it (moto). SigV4's own payload
hash is switched off (``payload_signing_enabled=False``, as botocore already
does over https): every body we send is covered by that checksum or, for
CompleteMultipartUpload, by the composite check of the staged object.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import contextlib
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.config import Config

from airflow_spof import chaos
from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import ChecksumMismatch
from airflow_spof.core.replication import WriteAck
from airflow_spof.hooks.backend import Timeouts, register_backend
from airflow_spof.hooks.objects import (
    RESERVED_PREFIX,
    ObjectMissing,
    clean_key,
    verified,
)
from airflow_spof.hooks.s3_errors import error_code
from airflow_spof.hooks.s3_parts import Part, PartBody, copy_part_for_part, take_part
from airflow_spof.hooks.shared_digest import SharedDigest, digested

MiB = 1024 * 1024
META_SHA256 = "spof-sha256"
DEFAULT_PART_SIZE = 5 * MiB
PARTS_PER_SIZE = 1000  # the part size doubles every 1,000 parts: no 10,000-part ceiling
MAX_PART_SIZE = 5 * 1024 * MiB
MIN_PART_SIZE = 5 * MiB  # S3 rejects smaller non-final parts (EntityTooSmall)
MAX_COPY_SIZE = 5 * 1024 * MiB  # larger objects are copied part by part
READ_CHUNK = 1 * MiB
INVENTORY_WORKERS = 8  # below botocore's default pool of 10 connections


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _hex_of_b64(value: str | None) -> str | None:
    if not value or "-" in value:
        return None  # absent, or a composite (multipart) checksum
    try:
        return base64.b64decode(value).hex()
    except ValueError:
        return None


class S3Backend:
    """One bucket (and prefix) of one S3 region, behind its Airflow connection."""

    def __init__(
        self,
        endpoint: Endpoint,
        timeouts: Timeouts | None = None,
        *,
        part_size: int | None = None,
    ) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self.bucket = str(endpoint.options.get("bucket") or endpoint.location.split("/")[0])
        self.prefix = str(endpoint.options.get("prefix") or "").strip("/")
        self.part_size = max(
            MIN_PART_SIZE, int(part_size or endpoint.options.get("part_size") or DEFAULT_PART_SIZE)
        )
        self.hook = S3Hook(aws_conn_id=endpoint.conn_id)
        self.secrets = self._collect_secrets()
        base = self.hook.config
        config = Config(
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            retries={"total_max_attempts": 1, "mode": "standard"},
            # Merged into the connection's own s3 options (addressing style...), not over them.
            s3={**(base.s3 or {}), "payload_signing_enabled": False},
        )
        # Our timeouts and single attempt win over the connection's botocore_config extras.
        self.client: Any = self.hook.get_client_type(config=base.merge(config))

    def _collect_secrets(self) -> tuple[str, ...]:
        """Secret values of the connection, masked in task logs and scrubbed from reports."""
        from airflow.sdk.log import mask_secret

        wrapper = self.hook.conn_config
        found = {
            wrapper.aws_secret_access_key,
            wrapper.aws_session_token,
            wrapper.password,
        }
        secrets = tuple(sorted(s for s in found if s))
        for secret in secrets:
            mask_secret(secret)
        return secrets

    def _key(self, key: str) -> str:
        relative = clean_key(key, self.endpoint.name)
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _where(self, key: str) -> str:
        return f"{self.endpoint.name}: s3://{self.bucket}/{self._key(key)}"

    # -- the ObjectBackend protocol -----------------------------------------

    def probe(self) -> None:
        chaos.before(self.endpoint, "probe", timeout=self.timeouts.connect)
        self.client.head_bucket(Bucket=self.bucket)

    def read(self, key: str) -> Iterator[bytes]:
        chaos.before(self.endpoint, "read", timeout=self.timeouts.read)
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                raise ObjectMissing(f"{self._where(key)}: no such object on this replica") from exc
            raise
        # Objects written by others may carry no SHA-256: they stream unverified.
        expected = _stored_sha256(response)
        body = response["Body"].iter_chunks(READ_CHUNK)
        return verified(chaos.corrupt_chunks(self.endpoint, body), expected, self._where(key))

    def write(self, key: str, chunks: Iterable[bytes]) -> WriteAck:
        chaos.before(self.endpoint, "write", timeout=self.timeouts.read)
        target = self._key(key)
        stream, digest = digested(chunks)
        head = take_part(stream, self.part_size)
        if head.size < self.part_size:  # the whole payload fits in one PUT
            return self._put(key, target, head, digest.hexdigest(head.size, self._where(key)))
        return self._multipart(key, target, head, stream, digest)

    def part_size_of(self, number: int) -> int:
        """Small parts keep memory low; doubling them every 1,000 parts keeps any stream
        under S3's 10,000-part limit (5 MiB start: 48 GiB by part 10,000 at a fixed size,
        over 5 TiB with doubling)."""
        return min(MAX_PART_SIZE, self.part_size * 2 ** ((number - 1) // PARTS_PER_SIZE))

    def checksum(self, key: str) -> str | None:
        chaos.before(self.endpoint, "checksum", timeout=self.timeouts.read)
        head = self._head(self._key(key))
        if head is None:
            return None
        return _stored_sha256(head) or self._hash_content(key)

    def inventory(self, prefix: str = "") -> dict[str, str]:
        """Every key under ``prefix`` with its SHA-256.

        Listings carry no SHA-256, so each object costs a HEAD; they run
        concurrently (boto3 clients are thread-safe) to keep anti-entropy over
        large prefixes in seconds rather than minutes.
        """
        chaos.before(self.endpoint, "inventory", timeout=self.timeouts.read)
        base = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        keys = [
            item["Key"][len(base) :]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix)
            for item in page.get("Contents", [])
        ]
        keys = [k for k in keys if k and not k.split("/")[0].startswith(RESERVED_PREFIX)]
        with cf.ThreadPoolExecutor(INVENTORY_WORKERS, thread_name_prefix="spof-s3-head") as pool:
            digests = pool.map(self._listed_checksum, keys)
            return {key: digest for key, digest in zip(keys, digests, strict=True) if digest}

    def _listed_checksum(self, key: str) -> str | None:
        head = self._head(self._key(key))  # None: deleted since the listing
        return None if head is None else _stored_sha256(head) or self._hash_content(key)

    # -- writing --------------------------------------------------------------

    def _put(self, key: str, target: str, payload: Part, digest: str) -> WriteAck:
        """Small payload: skip if unchanged, else one PUT, then verify what the server holds."""
        if self._holds(target, digest):
            return WriteAck(digest, payload.size)
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=target,
            Body=PartBody(list(chaos.corrupt_chunks(self.endpoint, payload.chunks))),
            ChecksumAlgorithm="SHA256",
            Metadata={META_SHA256: digest},
        )
        try:
            self._verify(key, target, digest)
        except ChecksumMismatch:
            self._delete_if_ours(target, response.get("ETag"))
            raise
        return WriteAck(digest, payload.size)

    def _multipart(
        self, key: str, target: str, head: Part, rest: Iterator[bytes], shared: SharedDigest
    ) -> WriteAck:
        staging = "/".join(
            p for p in (self.prefix, RESERVED_PREFIX, "staging", uuid.uuid4().hex) if p
        )
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=staging, ChecksumAlgorithm="SHA256"
        )["UploadId"]
        completed = False
        try:
            parts, part_digests, sizes = self._upload_parts(
                key, staging, upload, head, rest, shared
            )
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=staging, UploadId=upload, MultipartUpload={"Parts": parts}
            )
            completed = True
            composite = _b64(hashlib.sha256(b"".join(part_digests)).digest())
            staged = self._head(staging) or {}
            if staged.get("ChecksumSHA256", "").split("-")[0] != composite:
                raise ChecksumMismatch(
                    f"{self._where(key)} (staged parts)",
                    composite,
                    str(staged.get("ChecksumSHA256")),
                )
            digest = shared.hexdigest(sum(sizes), self._where(key))
            if not self._holds(target, digest):
                self._copy_into_place(staging, target, digest, parts, sizes)
                self._verify(key, target, digest, composite=composite)
            return WriteAck(digest, sum(sizes))
        except BaseException:
            if not completed:
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=staging, UploadId=upload
                    )
            raise
        finally:
            if completed:
                with contextlib.suppress(Exception):
                    self.client.delete_object(Bucket=self.bucket, Key=staging)

    def _upload_parts(
        self,
        key: str,
        staging: str,
        upload: str,
        head: Part,
        rest: Iterator[bytes],
        shared: SharedDigest,
    ) -> tuple[list[dict[str, Any]], list[bytes], list[int]]:
        """Upload parts as they fill; each part's server checksum must match ours."""
        parts: list[dict[str, Any]] = []
        digests: list[bytes] = []
        sizes: list[int] = []
        payload = head
        while payload.size:
            number = len(parts) + 1
            digest = shared.range_digest(sum(sizes), payload.chunks)
            chunks = chaos.corrupt_chunks(self.endpoint, payload.chunks)
            body = PartBody(list(chunks) if number == 1 else payload.chunks)
            response = self.client.upload_part(
                Bucket=self.bucket,
                Key=staging,
                UploadId=upload,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="SHA256",
            )
            del body
            if response.get("ChecksumSHA256") != _b64(digest):
                raise ChecksumMismatch(
                    f"{self._where(key)} part {number}",
                    _b64(digest),
                    str(response.get("ChecksumSHA256")),
                )
            parts.append(
                {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": _b64(digest)}
            )
            sizes.append(payload.size)
            digests.append(digest)
            payload = take_part(rest, self.part_size_of(len(parts) + 1))
        return parts, digests, sizes

    def _copy_into_place(
        self,
        staging: str,
        target: str,
        digest: str,
        parts: list[dict[str, Any]],
        sizes: list[int],
    ) -> None:
        """Make the verified staged object visible under its real key, checksum attached."""
        source = {"Bucket": self.bucket, "Key": staging}
        if sum(sizes) <= MAX_COPY_SIZE:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource=source,
                MetadataDirective="REPLACE",
                Metadata={META_SHA256: digest},
                ChecksumAlgorithm="SHA256",
            )
            return
        # CopyObject stops at 5 GiB: copy part for part, so the composite checksum is unchanged.
        copy_part_for_part(
            self.client, self.bucket, staging, target, {META_SHA256: digest}, parts, sizes
        )

    def _verify(self, key: str, target: str, digest: str, composite: str | None = None) -> None:
        """What the server holds now must carry our checksum, computed by the server."""
        head = self._head(target) or {}
        server = head.get("ChecksumSHA256") or ""
        full = _b64(bytes.fromhex(digest))
        accepted = {full, composite} if composite else {full}
        if (
            server.split("-")[0] not in accepted
            or head.get("Metadata", {}).get(META_SHA256) != digest
        ):
            raise ChecksumMismatch(self._where(key), full, server or "no checksum")

    # -- helpers --------------------------------------------------------------

    def _head(self, full_key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=full_key, ChecksumMode="ENABLED"
            )
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head

    def _holds(self, target: str, digest: str) -> bool:
        """The key already holds this exact content, per the server's own checksum."""
        head = self._head(target)
        return (
            head is not None
            and _stored_sha256(head) == digest
            and (_hex_of_b64(head.get("ChecksumSHA256")) in (digest, None))
        )

    def _delete_if_ours(self, target: str, etag: str | None) -> None:
        """Remove an object that failed verification, unless someone replaced it since."""
        with contextlib.suppress(Exception):
            head = self._head(target)
            if head is not None and head.get("ETag") == etag:
                self.client.delete_object(Bucket=self.bucket, Key=target)

    def _hash_content(self, key: str) -> str:
        """Objects written by others carry no checksum: hash their content."""
        response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        digest = hashlib.sha256()
        for chunk in response["Body"].iter_chunks(READ_CHUNK):
            digest.update(chunk)
        return digest.hexdigest()


def _stored_sha256(head: dict[str, Any]) -> str | None:
    """Our metadata checksum, else the server's full-object SHA-256 (hex)."""
    meta = head.get("Metadata", {}).get(META_SHA256)
    return meta or _hex_of_b64(head.get("ChecksumSHA256"))


@register_backend("s3")
def _open_s3(endpoint: Endpoint, timeouts: Timeouts) -> S3Backend:
    return S3Backend(endpoint, timeouts)
