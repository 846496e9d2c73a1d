"""How botocore failures map onto fail over / fail fast (registered on import).

Network trouble, 5xx and throttling are TRANSIENT (another region may
answer); credentials, missing buckets or keys and bad requests are
PERMANENT (every retry would fail the same way).
"""

from __future__ import annotations

from botocore import exceptions as bx

from airflow_spof.core.errors import ErrorClass, register, register_type

TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "503",
        "500",
    }
)
PERMANENT_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchUpload",
        "InvalidBucketName",
        "InvalidRequest",
        "InvalidArgument",
        "EntityTooSmall",
        "EntityTooLarge",
        "ExpiredToken",
        "InvalidToken",
        "AllAccessDisabled",
        "403",
        "404",
    }
)

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    bx.EndpointConnectionError,
    bx.ConnectTimeoutError,
    bx.ReadTimeoutError,
    bx.ConnectionClosedError,
    bx.ResponseStreamingError,
    bx.IncompleteReadError,
    bx.HTTPClientError,
)
_PERMANENT_TYPES: tuple[type[BaseException], ...] = (
    bx.NoCredentialsError,
    bx.PartialCredentialsError,
    bx.NoRegionError,
    bx.ParamValidationError,
)


def error_code(exc: BaseException) -> str | None:
    """The S3 error code of a ClientError (``NoSuchKey``, ``SlowDown``, ``404``...)."""
    if isinstance(exc, bx.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


@register
def classify_botocore(exc: BaseException) -> ErrorClass | None:
    if not isinstance(exc, bx.ClientError):
        return None
    code = error_code(exc) or ""
    if code in TRANSIENT_CODES:
        return ErrorClass.TRANSIENT
    if code in PERMANENT_CODES:
        return ErrorClass.PERMANENT
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if status >= 500 or status == 429:
        return ErrorClass.TRANSIENT
    if 400 <= status < 500:
        return ErrorClass.PERMANENT
    return None


for _type in _TRANSIENT_TYPES:
    register_type(_type, ErrorClass.TRANSIENT)
for _type in _PERMANENT_TYPES:
    register_type(_type, ErrorClass.PERMANENT)
