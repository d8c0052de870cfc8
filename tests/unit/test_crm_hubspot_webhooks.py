"""HubSpot webhook signatures v3 (engine/hubspot.py): requests signed by the fake portal, and
every way a signature is refused."""

import base64
import time

import pytest

from odoo.addons.connector_base.engine.signatures import SignatureError
from odoo.addons.connector_crm.engine import hubspot as hs

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.hubspot import FakeHubSpot

SECRET = "fake-hs-secret"


@pytest.fixture
def fake_hs():
    with FakeHubSpot() as fake:
        yield fake
        assert not fake.server.errors, fake.server.errors


HOOK_PATH = "/connector_crm/hubspot/webhook?backend=7&from=a%3Ab%40c%2Fd"


def test_signature_v3_accepts_a_webhook_sent_by_the_fake(fake_hs):
    with FakeHttpServer() as receiver:
        receiver.route("POST", "/connector_crm/hubspot/webhook", (204, {}, None))
        url = f"{receiver.url}{HOOK_PATH}"
        event = fake_hs.event("deal.propertyChange", 20001, property_name="dealstage")
        answer = fake_hs.webhook_request(url, SECRET, [event])
        assert answer.status_code == 204
        [request] = receiver.requests
    now_ms = int(time.time() * 1000)
    hs.verify_signature_v3(SECRET, "POST", url, request.body, request.headers, now_ms)
    with pytest.raises(SignatureError) as error:
        hs.verify_signature_v3("other", "POST", url, request.body, request.headers, now_ms)
    assert error.value.reason == "mismatch"


def signed(body=b'[{"eventId": 1}]', timestamp_ms=1_780_000_000_000, uri=None, method="POST"):
    uri = uri or f"https://odoo.example.com{HOOK_PATH}"
    signature = FakeHubSpot.sign_v3(SECRET, method, uri, body, timestamp_ms)
    headers = {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": str(timestamp_ms),
    }
    return uri, body, headers, timestamp_ms


def test_signature_v3_valid_with_any_header_case_and_lower_case_escapes():
    uri, body, headers, now = signed(uri="https://odoo.example.com/hook?x=a%3ab%2c")
    lowered = {key.lower(): value for key, value in headers.items()}
    hs.verify_signature_v3(SECRET, "post", uri, body, lowered, now + 299_000)
    hs.verify_signature_v3(SECRET, "POST", uri, body, headers, now - 299_000)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "mismatch"),
        ("uri", "mismatch"),
        ("method", "mismatch"),
        ("signature", "mismatch"),
        ("stale", "stale"),
        ("future", "stale"),
        ("no_signature", "missing"),
        ("no_timestamp", "missing"),
        ("no_secret", "missing"),
        ("timestamp_text", "malformed"),
    ],
)
def test_signature_v3_rejections(tamper, reason):
    uri, body, headers, now = signed()
    secret, method = SECRET, "POST"
    if tamper == "body":
        body += b" "
    elif tamper == "uri":
        uri = uri.replace("backend=7", "backend=8")
    elif tamper == "method":
        method = "PUT"
    elif tamper == "signature":
        headers["X-HubSpot-Signature-v3"] = base64.b64encode(b"0" * 32).decode()
    elif tamper == "stale":
        now += 301_000
    elif tamper == "future":
        now -= 301_000
    elif tamper == "no_signature":
        del headers["X-HubSpot-Signature-v3"]
    elif tamper == "no_timestamp":
        del headers["X-HubSpot-Request-Timestamp"]
    elif tamper == "no_secret":
        secret = ""
    elif tamper == "timestamp_text":
        headers["X-HubSpot-Request-Timestamp"] = "2026-11-02T10:00:00Z"
    with pytest.raises(SignatureError) as error:
        hs.verify_signature_v3(secret, method, uri, body, headers, now)
    assert error.value.reason == reason


def test_signed_uri_decodes_only_the_listed_escapes():
    uri = "https://odoo.example.com/hook%2Fx?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%25%26"
    assert hs.signed_uri(uri) == "https://odoo.example.com/hook/x?a=:/?@!$'()*,;&b=%20%25%26"
    assert hs.signed_uri("https://h/p?q=%3a%2f%40") == "https://h/p?q=:/@"
    assert hs.signed_uri("https://h/p?q=%253A") == "https://h/p?q=%253A"
