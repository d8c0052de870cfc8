"""The error classification decides whether a failed job is retried, parked or shown to a person."""

import sys

import psycopg2
import pytest
import requests
from psycopg2 import errors as pg_errors

from connector_base.engine import errors
from connector_base.engine.errors import (
    AUTH,
    BUSINESS,
    TRANSIENT,
    UNEXPECTED,
    AuthError,
    BusinessError,
    ConnectorError,
    TransientError,
    classify,
)


def test_connector_errors_keep_message_status_and_details():
    exc = BusinessError("Customer has no VAT number: set it", http_status=422, details={"id": 7})
    assert exc.message == "Customer has no VAT number: set it", "message must be kept verbatim"
    assert str(exc) == exc.message, "str() is what the job log shows"
    assert exc.http_status == 422, "the HTTP status must travel with the error"
    assert exc.details == {"id": 7}, "details must travel with the error"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TransientError("remote busy", retry_after=12.5), (TRANSIENT, 12.5)),
        (TransientError("remote busy"), (TRANSIENT, None)),
        (BusinessError("missing mapping"), (BUSINESS, None)),
        (AuthError("bad password"), (AUTH, None)),
        (ConnectorError("no class"), (UNEXPECTED, None)),
    ],
)
def test_connector_errors_classify_as_their_class(exc, expected):
    assert classify(exc) == expected, f"{type(exc).__name__} must classify as {expected}"


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("slow"),
        requests.exceptions.ConnectTimeout("slow connect"),
        TimeoutError("timeout"),  # socket.timeout is this same class since Python 3.10
        ConnectionResetError("reset by peer"),
        BrokenPipeError("pipe"),
    ],
)
def test_network_failures_are_transient(exc):
    assert classify(exc) == (TRANSIENT, None), f"{exc!r} is a network hiccup: it must be retried"


@pytest.mark.parametrize(
    "exc_type",
    [pg_errors.SerializationFailure, pg_errors.DeadlockDetected, pg_errors.LockNotAvailable],
)
def test_database_concurrency_failures_are_transient(exc_type):
    assert classify(exc_type()) == (TRANSIENT, None), (
        f"{exc_type.__name__} means another transaction won: retrying is the fix"
    )


@pytest.mark.parametrize(
    "exc",
    [
        KeyError("x"),
        ValueError("bad"),
        psycopg2.OperationalError("server closed"),
        ZeroDivisionError(),
    ],
)
def test_anything_else_is_unexpected(exc):
    assert classify(exc) == (UNEXPECTED, None), f"{exc!r} is a bug: it must not be retried blindly"


def test_classify_works_without_psycopg2(monkeypatch):
    # A None entry in sys.modules makes "import psycopg2" raise ImportError.
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    assert errors._transient_db_errors() == (), "missing psycopg2 must be tolerated"
    assert classify(TimeoutError()) == (TRANSIENT, None), "network errors still classify"
    assert classify(KeyError("x")) == (UNEXPECTED, None), "other errors still classify"
