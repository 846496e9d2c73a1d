import pytest

from airflow_spof.core.errors import (
    ChecksumMismatch,
    ErrorClass,
    PermanentError,
    classify,
    describe,
    register,
    scrub,
)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), ErrorClass.TRANSIENT),
        (ConnectionRefusedError(), ErrorClass.TRANSIENT),
        (ConnectionResetError(), ErrorClass.TRANSIENT),
        (TimeoutError(), ErrorClass.TRANSIENT),
        (PermissionError(), ErrorClass.PERMANENT),
        (FileNotFoundError(), ErrorClass.PERMANENT),
        (PermanentError("bad sql"), ErrorClass.PERMANENT),
        (ChecksumMismatch("s3:x", "aa", "bb"), ErrorClass.INVALID_DATA),
        (RuntimeError("unknown"), ErrorClass.TRANSIENT),
    ],
)
def test_builtin_classes(exc, expected) -> None:
    assert classify(exc) is expected


def test_unknown_error_inherits_the_class_of_its_cause() -> None:
    try:
        try:
            raise PermissionError("denied")
        except PermissionError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert classify(outer) is ErrorClass.PERMANENT


def test_backends_extend_the_registry() -> None:
    class VendorError(Exception):
        code = "Throttled"

    register(lambda e: ErrorClass.TRANSIENT if getattr(e, "code", "") == "Throttled" else None)
    assert classify(VendorError()) is ErrorClass.TRANSIENT


@pytest.mark.parametrize(
    "text",
    [
        "connection to postgresql+psycopg://app:hunter22@10.0.0.1/db failed",
        "password=hunter22 host=db",
        "{'aws_secret_access_key': 'hunter22'}",
    ],
)
def test_scrub_removes_credentials(text: str) -> None:
    assert "hunter22" not in scrub(text)


def test_describe_is_one_secret_free_line() -> None:
    exc = OSError("login failed for token=abcd1234\nsecond line")
    assert describe(exc, secrets=["abcd1234"]) == "OSError: login failed for token=***"
