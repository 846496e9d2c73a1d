"""Error classes decide what happens next: fail over, fail fast, or fall back."""

from __future__ import annotations

import enum
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any


class ErrorClass(str, enum.Enum):
    TRANSIENT = "transient"  # the endpoint may work again: fail over, count towards breakers
    PERMANENT = "permanent"  # retrying anywhere will not help: fail fast with the reason
    INVALID_DATA = "invalid_data"  # the endpoint answered with bad data: try the next source


class SpofError(Exception):
    """Base of the errors airflow-spof raises on purpose."""


class InvalidData(SpofError):
    """Data that came back but must not be accepted (quality gate, checksum, row count)."""


class ChecksumMismatch(InvalidData):
    def __init__(self, where: str, expected: str, actual: str) -> None:
        super().__init__(f"{where}: checksum mismatch (expected {expected}, got {actual})")
        self.expected = expected
        self.actual = actual


class TransientError(SpofError):
    """An endpoint failure worth retrying elsewhere (used by fault injection and probes)."""


class PermanentError(SpofError):
    """An endpoint failure no retry will fix (misconfiguration, missing object, bad query)."""


Classifier = Callable[[BaseException], ErrorClass | None]

_classifiers: list[Classifier] = []
_by_type: list[tuple[type[BaseException], ErrorClass]] = []


def register_type(exc_type: type[BaseException], error_class: ErrorClass) -> None:
    """Map an exception type (and its subclasses) to a class; later registrations win."""
    _by_type.insert(0, (exc_type, error_class))


def register(classifier: Classifier) -> Classifier:
    """Add a classifier that may inspect an exception and return a class, or None to pass.

    Backends register theirs on import (botocore codes, DBAPI SQLSTATEs, errno).
    Usable as a decorator.
    """
    _classifiers.insert(0, classifier)
    return classifier


def classify(exc: BaseException) -> ErrorClass:
    """Return the error class of ``exc``; unknown errors count as TRANSIENT.

    Unknown errors fail over rather than fail fast: a spurious failover costs a
    little time, a spurious fail-fast costs the whole run.
    """
    for classifier in _classifiers:
        verdict = classifier(exc)
        if verdict is not None:
            return verdict
    for exc_type, error_class in _by_type:
        if isinstance(exc, exc_type):
            return error_class
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return classify(cause)
    return ErrorClass.TRANSIENT


register_type(InvalidData, ErrorClass.INVALID_DATA)
register_type(TransientError, ErrorClass.TRANSIENT)
register_type(PermanentError, ErrorClass.PERMANENT)
register_type(TimeoutError, ErrorClass.TRANSIENT)
register_type(ConnectionError, ErrorClass.TRANSIENT)
register_type(socket.timeout, ErrorClass.TRANSIENT)
register_type(PermissionError, ErrorClass.PERMANENT)
register_type(FileNotFoundError, ErrorClass.PERMANENT)
register_type(NotADirectoryError, ErrorClass.PERMANENT)
register_type(IsADirectoryError, ErrorClass.PERMANENT)
register_type(ValueError, ErrorClass.PERMANENT)
register_type(TypeError, ErrorClass.PERMANENT)
register_type(KeyError, ErrorClass.PERMANENT)


_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    # scheme://user:password@host  ->  scheme://user:***@host
    re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?=@)"),
    # password=..., secret_access_key: '...', token "..."
    re.compile(
        r"(?P<pre>(?:password|passwd|pwd|secret|secret_access_key|aws_secret_access_key|"
        r"token|session_token|api_key)[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s\"',;&}]+)",
        re.IGNORECASE,
    ),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from a message before it reaches a report, log or page."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group("pre") + "***", text)
    return text


def describe(exc: BaseException, secrets: Iterable[str] = (), limit: int = 500) -> str:
    """A one-line, secret-free description of an exception for reports."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    text = scrub(text, secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_class_of(value: Any) -> ErrorClass:
    """Accept an ErrorClass or its string value (reports round-trip through JSON)."""
    return value if isinstance(value, ErrorClass) else ErrorClass(value)
