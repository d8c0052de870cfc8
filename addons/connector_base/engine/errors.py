"""Connector exceptions and the classification the job queue uses to decide what to do next.

The error class drives the queue:

* ``transient``: the remote side or the network hiccupped; retried automatically with backoff.
* ``business``: the data or the mapping is wrong; a person must fix it, no automatic retry.
* ``auth``: credentials, permissions or configuration; the backend is marked down and jobs wait.
* ``unexpected``: a bug; a person must look at it, it is not retried blindly.
"""

import requests

TRANSIENT = "transient"
BUSINESS = "business"
AUTH = "auth"
UNEXPECTED = "unexpected"


class ConnectorError(Exception):
    """Base class of the errors connectors raise on purpose (as opposed to bugs)."""

    error_class: str | None = None

    def __init__(self, message, *, http_status=None, details=None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.details = details

    def __str__(self):
        return str(self.message)


class TransientError(ConnectorError):
    """Temporary failure (network, timeout, rate limit, 5xx): retry later."""

    error_class = TRANSIENT

    def __init__(self, message, *, retry_after=None, http_status=None, details=None):
        super().__init__(message, http_status=http_status, details=details)
        # Seconds the remote side asked us to wait (Retry-After); None when it did not say.
        self.retry_after = retry_after


class BusinessError(ConnectorError):
    """Validation error, missing mapping, record not ready: needs a person, no automatic retry."""

    error_class = BUSINESS


class AuthError(ConnectorError):
    """Bad credentials, missing permission or configuration: the backend is marked down."""

    error_class = AUTH


def _transient_db_errors():
    """Return the psycopg2 exception classes meaning "retry the transaction", or ()."""
    try:
        from psycopg2 import errors as pg_errors
        from psycopg2 import extensions as pg_extensions
    except ImportError:  # engine used outside Odoo without psycopg2
        return ()
    return (
        pg_extensions.TransactionRollbackError,  # covers SerializationFailure, DeadlockDetected
        pg_errors.SerializationFailure,
        pg_errors.DeadlockDetected,
        pg_errors.LockNotAvailable,
    )


def classify(exc) -> tuple[str, float | None]:
    """Return ``(error_class, retry_after_seconds)`` for an exception raised by a job."""
    if isinstance(exc, ConnectorError):
        return exc.error_class or UNEXPECTED, getattr(exc, "retry_after", None)

    network_errors = (
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        TimeoutError,  # socket.timeout is an alias since Python 3.10
        ConnectionError,
    )
    if isinstance(exc, network_errors):
        return TRANSIENT, None
    db_errors = _transient_db_errors()
    if db_errors and isinstance(exc, db_errors):
        return TRANSIENT, None
    return UNEXPECTED, None
