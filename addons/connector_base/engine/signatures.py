"""Webhook signatures of the built-in "generic" backend type (scheme "generic v1").

The sender adds two headers:

* ``X-Connector-Timestamp``: unix seconds when the request was signed;
* ``X-Connector-Signature: v1=<hex>`` where hex is HMAC-SHA256(secret, signed payload) and the
  signed payload is ``f"{timestamp}.{METHOD}.{full_url}.".encode() + body``.

``full_url`` is the public URL the sender called (scheme://host/path?query), so a signature
captured for one endpoint cannot be replayed on another; the timestamp bounds replays in time.
Several ``v1=`` values (comma or space separated) are accepted so the sender can rotate its
secret without downtime.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Connector-Timestamp"
SIGNATURE_HEADER = "X-Connector-Signature"
SCHEME_PREFIX = "v1="

REASONS = ("missing", "mismatch", "stale", "malformed")
_SEPARATORS = re.compile(r"[,\s]+")
_TIMESTAMP = re.compile(r"\d{1,12}")


class SignatureError(Exception):
    """The webhook signature is not acceptable; ``reason`` says why (see REASONS)."""

    def __init__(self, message, *, reason):
        if reason not in REASONS:
            raise ValueError(f"unknown signature failure reason {reason!r}; use one of {REASONS}")
        super().__init__(message)
        self.reason = reason


def _check_secret(secret):
    if not secret:
        # An empty HMAC key would let anyone forge signatures: refuse rather than accept.
        raise ValueError(
            "The webhook secret is empty: set a webhook secret on the backend (and on the sender)."
        )


def _digest(secret: str, timestamp, method: str, url: str, body: bytes) -> str:
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    payload = f"{timestamp}.{method.upper()}.{url}.".encode() + body
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def sign_generic(secret: str, timestamp: int, method: str, url: str, body: bytes) -> str:
    """Return the ``X-Connector-Signature`` header value (``v1=<hex>``)."""
    _check_secret(secret)
    return SCHEME_PREFIX + _digest(secret, int(timestamp), method, url, body)


def verify_generic(
    secret: str,
    headers: Mapping[str, str],
    method: str,
    url: str,
    body: bytes,
    *,
    now: float,
    tolerance: int = 300,
) -> None:
    """Raise SignatureError unless the request carries a fresh, valid generic v1 signature."""
    _check_secret(secret)
    lowered = {str(name).lower(): value for name, value in (headers or {}).items()}
    timestamp_value = lowered.get(TIMESTAMP_HEADER.lower())
    signature_value = lowered.get(SIGNATURE_HEADER.lower())
    if not timestamp_value or not signature_value:
        raise SignatureError(
            f"The webhook request lacks the {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header: "
            "configure the sender to sign its requests.",
            reason="missing",
        )
    timestamp_value = timestamp_value.strip()
    if not _TIMESTAMP.fullmatch(timestamp_value):
        raise SignatureError(
            f"{TIMESTAMP_HEADER} must be unix seconds (digits only); the sender sent a bad value.",
            reason="malformed",
        )
    candidates = [
        item[len(SCHEME_PREFIX) :].lower()
        for item in _SEPARATORS.split(signature_value.strip())
        if item.startswith(SCHEME_PREFIX)
    ]
    if not candidates:
        raise SignatureError(
            f"{SIGNATURE_HEADER} has no '{SCHEME_PREFIX}<hex>' value; "
            "the sender uses another signature scheme.",
            reason="malformed",
        )
    timestamp = int(timestamp_value)
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            f"The webhook timestamp is {int(now - timestamp)}s away from this server's clock "
            f"(tolerance {tolerance}s): check both clocks (NTP) or this is a replayed request.",
            reason="stale",
        )
    expected = _digest(secret, timestamp_value, method, url, body).encode("ascii")
    # compare_digest on bytes: constant time, and no TypeError on non-ASCII input.
    if not any(hmac.compare_digest(expected, value.encode("utf-8")) for value in candidates):
        raise SignatureError(
            "The webhook signature does not match: check that the sender and the backend share "
            "the same secret and that the sender signs the exact public URL it calls.",
            reason="mismatch",
        )
