"""Webhooks of the generic backend are accepted only with a fresh HMAC signature of the request."""

import hashlib
import hmac

import pytest

from connector_base.engine.signatures import SignatureError, sign_generic, verify_generic

SECRET = "whsec_generic_test_secret"
TIMESTAMP = 1_700_000_000
URL = "https://odoo.example.com/connector/webhook/generic/3?source=crm"
BODY = b'{"event": "contact.updated", "id": 42}'


def signed_headers(secret=SECRET, timestamp=TIMESTAMP, method="POST", url=URL, body=BODY):
    return {
        "X-Connector-Timestamp": str(timestamp),
        "X-Connector-Signature": sign_generic(secret, timestamp, method, url, body),
    }


def verify(headers, *, method="POST", url=URL, body=BODY, now=TIMESTAMP + 5, **kwargs):
    verify_generic(SECRET, headers, method, url, body, now=now, **kwargs)


def reason_of(headers, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(headers, **kwargs)
    return caught.value.reason


def test_signature_format_is_documented_hmac_of_timestamp_method_url_body():
    payload = f"{TIMESTAMP}.POST.{URL}.".encode() + BODY
    expected = "v1=" + hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    assert sign_generic(SECRET, TIMESTAMP, "post", URL, BODY) == expected, (
        "senders in other languages implement this exact payload; the method is upper-cased"
    )


def test_valid_signature_is_accepted_with_any_header_case():
    verify(signed_headers())  # raises on failure
    lowered = {name.lower(): value for name, value in signed_headers().items()}
    verify(lowered)  # header names are case-insensitive (proxies lower-case them)


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY + b" "},
        {"url": URL.replace("/3?", "/4?")},
        {"url": URL.replace("source=crm", "source=erp")},
        {"method": "PUT"},
    ],
    ids=["tampered-body", "other-endpoint", "other-query", "other-method"],
)
def test_any_change_to_the_signed_request_is_a_mismatch(change):
    assert reason_of(signed_headers(), **change) == "mismatch", f"{change} must be rejected"


def test_wrong_secret_is_a_mismatch():
    headers = signed_headers(secret="another-secret-value")
    assert reason_of(headers) == "mismatch", "a signature made with another secret is rejected"


def test_stale_or_future_timestamps_are_rejected():
    assert reason_of(signed_headers(), now=TIMESTAMP + 301) == "stale", "replay after 5 min"
    assert reason_of(signed_headers(), now=TIMESTAMP - 301) == "stale", "clock far in future"
    verify(signed_headers(), now=TIMESTAMP + 300)  # the tolerance edge is still accepted
    assert reason_of(signed_headers(), now=TIMESTAMP + 61, tolerance=60) == "stale", (
        "the tolerance is configurable"
    )


@pytest.mark.parametrize("missing", ["X-Connector-Timestamp", "X-Connector-Signature"])
def test_missing_headers_are_reported_as_missing(missing):
    headers = signed_headers()
    del headers[missing]
    assert reason_of(headers) == "missing", f"no {missing} header must be 'missing'"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Connector-Timestamp": "yesterday", "X-Connector-Signature": "v1=00"},
        {"X-Connector-Timestamp": str(TIMESTAMP), "X-Connector-Signature": "sha256=abcdef"},
    ],
)
def test_malformed_headers_are_reported_as_malformed(headers):
    assert reason_of(headers) == "malformed", f"{headers} must be 'malformed'"


def test_several_v1_values_are_accepted_for_sender_secret_rotation():
    good = sign_generic(SECRET, TIMESTAMP, "POST", URL, BODY)
    old = sign_generic("previous-sender-secret", TIMESTAMP, "POST", URL, BODY)
    for header in (f"{old},{good}", f"{good} {old}", f"{old}, {good}", f"v2=abc {good}"):
        verify({"X-Connector-Timestamp": str(TIMESTAMP), "X-Connector-Signature": header})
    both_wrong = {"X-Connector-Timestamp": str(TIMESTAMP), "X-Connector-Signature": f"{old},v1=00"}
    assert reason_of(both_wrong) == "mismatch", "several values: at least one must match"


def test_empty_secret_is_refused():
    with pytest.raises(ValueError, match="set a webhook secret"):
        verify_generic("", signed_headers(), "POST", URL, BODY, now=TIMESTAMP)
