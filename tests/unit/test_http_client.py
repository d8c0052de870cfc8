"""The HTTP client maps remote failures to the error classes the queue acts on (real loopback)."""

import io
import logging
import socket
import time
import uuid

import pytest
import requests

from connector_base.engine.errors import (
    TRANSIENT,
    AuthError,
    BusinessError,
    TransientError,
    classify,
)
from connector_base.engine.http_client import (
    AuthProvider,
    BearerTokenAuth,
    HttpClient,
    parse_json,
    remote_error_message,
)
from connector_base.engine.redaction import SECRETS
from tests.fakes.http_fake import FakeHttpServer


@pytest.fixture
def server():
    with FakeHttpServer() as fake:
        yield fake
        assert not fake.errors, f"a fake route crashed:\n{fake.errors}"


@pytest.fixture
def client(server):
    with HttpClient(f"{server.url}/api/v1", correlation_id="job-42") as http:
        yield http


class RotatingTokenAuth(AuthProvider):
    """Token that the server rejects until refresh() fetches a new one."""

    def __init__(self):
        self.token = "expired-token-0001"
        self.refresh_calls = 0

    def apply(self, headers):
        headers["Authorization"] = f"Bearer {self.token}"

    def refresh(self):
        self.refresh_calls += 1
        self.token = "fresh-token-0002"


class CountingLimiter:
    def __init__(self):
        self.calls = 0

    def acquire(self):
        self.calls += 1
        return 0.0


def response(status, body, content_type="application/json"):
    """A requests.Response built locally, for the body-shape parsers."""
    resp = requests.Response()
    resp.status_code = status
    resp._content = body.encode() if isinstance(body, str) else body
    resp.headers["Content-Type"] = content_type
    resp.url = "https://remote.example.com/x"
    return resp


def test_success_returns_the_response_and_keeps_the_base_path(server, client):
    server.route("GET", "/api/v1/items", lambda request: (200, {}, {"items": [1, 2]}))
    resp = client.get("items", params={"page": "2"})
    assert parse_json(resp) == {"items": [1, 2]}, "the JSON body must come back"
    request = server.requests[0]
    assert request.path == "/api/v1/items", "a relative path is appended to the base URL path"
    assert request.query == {"page": "2"}, "query parameters must be sent"
    assert request.headers["User-Agent"] == "odoo-connector/18.0", "the user agent identifies us"


def test_absolute_urls_are_used_as_is(server, client):
    server.route("GET", "/elsewhere", (200, {}, {"ok": True}))
    client.get(f"{server.url}/elsewhere")
    assert server.requests[0].path == "/elsewhere", "an absolute URL (e.g. next page) is kept"


def test_correlation_id_reaches_the_server(server, client):
    server.route("POST", "/api/v1/items", (201, {}, {"id": 7}))
    client.post("/items", json={"name": "x"}, expected={201})
    request = server.requests[0]
    assert request.headers["X-Correlation-ID"] == "job-42", "the remote side can trace our job"
    assert request.json() == {"name": "x"}, "the JSON body must be sent"


def test_an_explicit_timeout_is_always_passed():
    class RecordingSession:
        def __init__(self):
            self.timeouts = []

        def request(self, method, url, **kwargs):
            self.timeouts.append(kwargs["timeout"])
            return response(200, "{}")

    session = RecordingSession()
    http = HttpClient("https://remote.example.com", session=session)
    http.get("a")
    http.get("b", timeout=(1.0, 2.0))
    assert session.timeouts == [(5.0, 30.0), (1.0, 2.0)], (
        "every request needs a timeout, or a dead remote hangs a worker forever"
    )


def test_429_is_transient_with_the_server_retry_after(server, client):
    server.fail_next(1, status=429, headers={"Retry-After": "7"}, body={"message": "slow down"})
    with pytest.raises(TransientError) as caught:
        client.get("items")
    error = caught.value
    assert error.retry_after == 7.0, "the queue must not retry before Retry-After"
    assert error.http_status == 429, "the status must be kept"
    assert "slow down" in error.message, "the remote text must be in the message"
    assert classify(error) == (TRANSIENT, 7.0), "the queue sees a transient error with its delay"


def test_5xx_is_transient(server, client):
    server.fail_next(1, status=503, body={"message": "maintenance"})
    with pytest.raises(TransientError) as caught:
        client.get("items")
    assert caught.value.http_status == 503, "503 must be kept on the error"
    assert caught.value.retry_after is None, "no Retry-After header: the queue's backoff applies"
    assert "maintenance" in caught.value.message, "the remote text must be in the message"


def test_read_timeout_is_transient_and_names_host_and_timeout(server):
    server.route("GET", "/slow", (200, {}, {}))
    server.delay_next(1, 2.0)
    http = HttpClient(server.url, timeout=(1.0, 0.2))
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        http.get("slow")
    assert time.monotonic() - started < 1.5, "the read timeout must cut the wait short"
    assert "127.0.0.1" in caught.value.message, "the message names the host"
    assert "0.2s" in caught.value.message, "the message names the timeout"


def test_connection_refused_is_transient():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError) as caught:
        HttpClient(f"http://127.0.0.1:{port}", timeout=(1.0, 1.0)).get("x")
    assert "Could not reach 127.0.0.1" in caught.value.message, "the message names the host"


def test_401_refreshes_once_and_resends(server):
    def handler(request):
        if request.headers["Authorization"] == "Bearer fresh-token-0002":
            return 200, {}, {"ok": True}
        return 401, {}, {"message": "token expired"}

    server.route("GET", "/me", handler)
    auth, limiter = RotatingTokenAuth(), CountingLimiter()
    resp = HttpClient(server.url, auth=auth, rate_limiter=limiter).get("me")
    assert resp.status_code == 200, "the resend after refresh must succeed"
    assert auth.refresh_calls == 1, "exactly one re-authentication"
    assert len(server.requests) == 2, "exactly one resend"
    assert limiter.calls == 2, "the rate limiter is taken once per request sent, resend included"


def test_second_401_is_an_auth_error(server):
    server.route(
        "GET", "/me", (401, {}, {"error": "invalid_token", "error_description": "revoked"})
    )
    auth = RotatingTokenAuth()
    with pytest.raises(AuthError) as caught:
        HttpClient(server.url, auth=auth).get("me")
    assert auth.refresh_calls == 1, "refresh is tried once, never in a loop"
    assert len(server.requests) == 2, "one request plus one resend"
    assert caught.value.http_status == 401, "the status must be kept"
    assert "invalid_token: revoked" in caught.value.message, "the OAuth error text is shown"


def test_static_token_rejection_says_to_set_a_new_token(server):
    server.route("GET", "/me", (401, {}, {"message": "bad token"}))
    with pytest.raises(AuthError, match="Set a new token"):
        HttpClient(server.url, auth=BearerTokenAuth("static-token-1234")).get("me")
    assert len(server.requests) == 1, "a static token cannot be refreshed: no resend"


def test_salesforce_400_is_a_business_error_with_code_and_message(server, client):
    body = [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]
    server.fail_next(1, status=400, body=body)
    with pytest.raises(BusinessError) as caught:
        client.post("sobjects/Contact", json={})
    assert "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]" in str(caught.value), (
        "the person fixing the record needs the remote code and message"
    )
    assert caught.value.http_status == 400, "the status must be kept"


def test_a_vendor_classifier_decides_before_the_generic_mapping(server):
    """Vendor knowledge lives in the adapter's classify_error hook, not in the generic client:
    without it a quota answered as 403 is an auth error; with it, what the vendor means."""
    quota = [{"message": "TotalRequests Limit exceeded.", "errorCode": "QUOTA_USED_UP"}]
    seen = []

    def classify_error(response):
        seen.append(response.status_code)
        if response.status_code == 403 and "QUOTA_USED_UP" in response.text:
            return TransientError("daily quota used up", retry_after=3600)
        return None

    server.route("GET", "/api/v1/items", lambda request: (200, {}, {"items": []}))
    with HttpClient(f"{server.url}/api/v1", correlation_id="job-7") as plain:
        server.fail_next(1, status=403, body=quota)
        with pytest.raises(AuthError, match="denied permission"):
            plain.get("items")
    with HttpClient(
        f"{server.url}/api/v1", correlation_id="job-7", classify_error=classify_error
    ) as client:
        server.fail_next(1, status=403, body=quota)
        with pytest.raises(TransientError) as caught:
            client.get("items")
        assert caught.value.retry_after == 3600, "the vendor's retry delay is kept"
        assert caught.value.http_status == 403, "the client fills in the status"
        assert caught.value.details["correlation_id"] == "job-7", "and the request details"
        server.fail_next(1, status=403, body={"message": "no access", "category": "MISSING_SCOPES"})
        with pytest.raises(AuthError, match="MISSING_SCOPES: no access"):
            client.get("items")
        assert client.get("items").status_code == 200, "success never reaches the classifier"
    assert seen == [403, 403], f"the hook sees error answers only: {seen}"


def test_404_is_business_unless_expected(server, client):
    with pytest.raises(BusinessError) as caught:
        client.get("missing")
    assert caught.value.http_status == 404, "a missing remote record needs a person"
    resp = client.get("missing", expected={200, 404})
    assert resp.status_code == 404, "an expected 404 (existence check) is returned, not raised"


def test_unexpected_success_status_is_a_business_error(server, client):
    server.route("POST", "/api/v1/items", (200, {}, {"id": 1}))
    with pytest.raises(BusinessError, match="expected \\[201\\]"):
        client.post("items", json={}, expected={201})


def test_malformed_json_is_a_business_error(server, client):
    server.malformed_next(1)
    resp = client.get("items")
    with pytest.raises(BusinessError, match="returned a body that is not valid JSON"):
        parse_json(resp)


def test_authorization_and_secrets_never_reach_the_log(server):
    token = "tok_" + uuid.uuid4().hex
    api_key = "key_" + uuid.uuid4().hex
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(f"test.http.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    server.route("GET", "/items", (200, {}, {"ok": True}))
    server.route("GET", "/denied", (403, {}, {"message": f"token {token} lacks scope"}))
    http = HttpClient(server.url, auth=BearerTokenAuth(token), logger=logger, correlation_id="c-9")
    http.get("items", params={"api_key": api_key, "page": 1})
    with pytest.raises(AuthError) as caught:
        http.get("denied")
    output = stream.getvalue()
    assert server.requests[0].headers["Authorization"] == f"Bearer {token}", "the token is sent"
    assert token not in output and "Authorization" not in output, f"credentials leaked:\n{output}"
    assert api_key not in output and "api_key=***" in output, f"query secret leaked:\n{output}"
    assert token not in caught.value.message, "remote text echoing the token must be redacted"
    lines = output.splitlines()
    assert len(lines) == 4, f"one line per request and one per response:\n{output}"
    assert "GET" in lines[1] and "-> 200" in lines[1] and "c-9" in lines[1], (
        f"the response line names method, status and correlation id:\n{output}"
    )
    logger.removeHandler(handler)


def test_rate_limiter_is_taken_once_per_request(server):
    server.route("GET", "/items", (200, {}, {}))
    limiter = CountingLimiter()
    http = HttpClient(server.url, rate_limiter=limiter)
    for _ in range(3):
        http.get("items")
    assert limiter.calls == 3 == len(server.requests), "one token per request sent"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '[{"message": "bad id", "errorCode": "INVALID_ID"}, {"message": "m2"}]',
            "INVALID_ID: bad id; m2",
        ),
        (
            '{"status": "error", "message": "Property x does not exist",'
            ' "category": "VALIDATION_ERROR"}',
            "VALIDATION_ERROR: Property x does not exist",
        ),
        ('{"errors": [{"type": "validation", "message": "Name is required"}]}', "Name is required"),
        ('{"error": "invalid_grant", "error_description": "expired"}', "invalid_grant: expired"),
        ("<html><body>Bad   gateway</body></html>", "<html><body>Bad gateway</body></html>"),
    ],
    ids=["salesforce", "hubspot", "kantata", "oauth", "html"],
)
def test_remote_error_message_understands_known_shapes(body, expected):
    assert remote_error_message(response(400, body)) == expected, f"shape {body!r}"


def test_remote_error_message_truncates_text_and_redacts_secrets():
    secret = "pw_" + uuid.uuid4().hex
    SECRETS.register(secret)
    text = remote_error_message(response(500, f"failed for {secret} " + "x" * 1000, "text/plain"))
    assert secret not in text, "a remote body echoing a secret must be redacted"
    assert len(text) <= 300, "plain text bodies are cut to 300 characters"


def _ok(server):
    server.route("GET", "/api/v1/items", lambda request: (200, {}, {"items": [1]}))
    server.route("POST", "/api/v1/items", lambda request: (200, {}, {"created": True}))


def test_quick_retries_absorb_a_blip_on_idempotent_requests(server):
    _ok(server)
    server.fail_next(2, status=503)
    with HttpClient(f"{server.url}/api/v1", quick_retries=2, quick_retry_wait=0.01) as http:
        assert http.get("items").json() == {"items": [1]}
    assert [r.status for r in server.requests] == [503, 503, 200]


def test_quick_retries_give_up_and_leave_the_rest_to_the_queue(server):
    _ok(server)
    server.fail_next(3, status=502)
    with (
        HttpClient(f"{server.url}/api/v1", quick_retries=2, quick_retry_wait=0.01) as http,
        pytest.raises(TransientError),
    ):
        http.get("items")
    assert len(server.requests) == 3


def test_quick_retries_skip_posts_unless_declared_idempotent(server):
    _ok(server)
    with HttpClient(f"{server.url}/api/v1", quick_retries=2, quick_retry_wait=0.01) as http:
        server.fail_next(1, status=503)
        with pytest.raises(TransientError):
            http.post("items", json={})
        assert len(server.requests) == 1
        server.fail_next(1, status=503)
        assert http.post("items", json={}, idempotent=True).json() == {"created": True}
    assert len(server.requests) == 3


def test_a_long_retry_after_is_not_waited_in_place(server):
    _ok(server)
    server.fail_next(1, status=429, headers={"Retry-After": "120"})
    with (
        HttpClient(f"{server.url}/api/v1", quick_retries=2, quick_retry_wait=0.01) as http,
        pytest.raises(TransientError) as caught,
    ):
        http.get("items")
    assert caught.value.retry_after == 120
    assert len(server.requests) == 1


def test_no_quick_retries_by_default(server, client):
    _ok(server)
    server.fail_next(1, status=503)
    with pytest.raises(TransientError):
        client.get("items")
    assert len(server.requests) == 1
