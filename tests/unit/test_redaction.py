"""Secrets never reach logs: key-based redaction plus a registry of known secret values."""

import io
import logging
import threading
import uuid

import pytest

from connector_base.engine import redaction
from connector_base.engine.redaction import (
    REDACTED,
    SECRET_KEY_PATTERN,
    SECRETS,
    SecretRegistry,
    install_log_redaction,
    redact_headers,
    redact_mapping,
    redact_url,
)


def unique_secret(prefix="sk_test_"):
    """Secrets unique per test, because SECRETS is process-wide."""
    return prefix + uuid.uuid4().hex


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "passwd",
        "db_password",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "accessToken",
        "api_key",
        "apikey",
        "X-Api-Key",
        "X-Auth-Token",
        "authorization",
        "Proxy-Authorization",
        "private_key",
        "assertion",
        "client_assertion",
        "signature",
        "X-Connector-Signature",
        "secret_key",
        "tokens",
    ],
)
def test_secret_key_names_match(name):
    assert SECRET_KEY_PATTERN.search(name), f"{name!r} holds a secret and must be redacted"


@pytest.mark.parametrize(
    "name",
    [
        "token_type",
        "tokenizer",
        "expires_in",
        "password_expiry",
        "signature_date",
        "username",
        "email",
        "primary_key",
        "page",
        "X-Correlation-ID",
        "Content-Type",
    ],
)
def test_ordinary_key_names_do_not_match(name):
    assert not SECRET_KEY_PATTERN.search(name), f"{name!r} is not secret and must stay readable"


def test_redact_mapping_deep_copies_and_hides_secret_values():
    original = {
        "user": "bob",
        "password": "hunter2hunter2",
        "oauth": {"access_token": "at-123456", "token_type": "Bearer", "expires_in": 3600},
        "items": [{"client_secret": "cs-987654", "name": "x"}, ("api_key", "plain-tuple")],
        "refresh_token": None,
    }
    redacted = redact_mapping(original)
    assert redacted == {
        "user": "bob",
        "password": REDACTED,
        "oauth": {"access_token": REDACTED, "token_type": "Bearer", "expires_in": 3600},
        "items": [{"client_secret": REDACTED, "name": "x"}, ("api_key", "plain-tuple")],
        "refresh_token": None,
    }, "secret values must be replaced, everything else kept (None shows a secret is missing)"
    assert original["password"] == "hunter2hunter2", "the input must not be modified"
    assert original["oauth"]["access_token"] == "at-123456", "nested input must not be modified"


def test_redact_headers_keeps_the_auth_scheme_only():
    headers = {
        "Authorization": "Bearer eyJhbGciOi.secret.part",
        "Proxy-Authorization": "Basic dXNlcjpwYXNz",
        "Cookie": "sid=abc123; theme=dark",
        "Set-Cookie": "sid=abc123; HttpOnly",
        "X-Api-Key": "key-123456",
        "X-Auth-Token": "tok-123456",
        "Content-Type": "application/json",
        "X-Correlation-ID": "job-42",
    }
    assert redact_headers(headers) == {
        "Authorization": "Bearer ***",
        "Proxy-Authorization": "Basic ***",
        "Cookie": REDACTED,
        "Set-Cookie": REDACTED,
        "X-Api-Key": REDACTED,
        "X-Auth-Token": REDACTED,
        "Content-Type": "application/json",
        "X-Correlation-ID": "job-42",
    }, "credentials must be hidden, the scheme word and ordinary headers kept"
    assert headers["Authorization"].startswith("Bearer eyJ"), "the input must not be modified"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.example.com/v1/items?page=2&api_key=abc123&access_token=xyz#top",
            "https://api.example.com/v1/items?page=2&api_key=***&access_token=***#top",
        ),
        (
            "https://user:p%40ss@db.example.com:8443/path",
            "https://user:***@db.example.com:8443/path",
        ),
        ("https://token-only@example.com/x", "https://token-only@example.com/x"),
        (
            "https://app.example.com/cb#access_token=abc&token_type=bearer",
            "https://app.example.com/cb#access_token=***&token_type=bearer",
        ),
        (
            "https://api.example.com/search?q=a%20b&Token=1",
            "https://api.example.com/search?q=a%20b&Token=***",
        ),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected, f"{url} must be redacted as {expected}"


def test_registry_replaces_longest_secret_first_and_ignores_short_values():
    registry = SecretRegistry()
    registry.register("abcdef")
    registry.register("abcdefghij")
    registry.register("12345")  # too short: would mangle unrelated text
    text = "long=abcdefghij short=abcdef pin=12345"
    assert registry.redact(text) == "long=*** short=*** pin=12345", (
        "a secret containing another must be replaced whole; short values are ignored"
    )


def test_registry_also_hides_the_url_encoded_form():
    registry = SecretRegistry()
    registry.register("pa ss/w+rd=")
    assert registry.redact("GET /x?p=pa%20ss%2Fw%2Brd%3D") == "GET /x?p=***", (
        "a secret sent in a query string appears URL-encoded in logs"
    )


def test_registry_is_thread_safe():
    registry = SecretRegistry()
    values = [f"secret-value-{index:04d}" for index in range(400)]

    def register(chunk):
        for value in chunk:
            registry.register(value)

    threads = [threading.Thread(target=register, args=(values[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = " ".join(values)
    assert registry.redact(text) == " ".join([REDACTED] * len(values)), (
        "every value registered concurrently must be redacted"
    )


def test_registry_is_bounded():
    registry = SecretRegistry(max_entries=3)
    for value in ("first-secret", "second-secret", "third-secret", "fourth-secret"):
        registry.register(value)
    assert registry.redact("first-secret fourth-secret") == "first-secret ***", (
        "the oldest values are dropped first so a long-running worker does not grow forever"
    )


@pytest.fixture
def captured_logger():
    """A real logger with a real formatter writing to a buffer."""
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger(f"test.redaction.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_registered_secrets_never_reach_log_output(captured_logger):
    logger, stream = captured_logger
    secret = unique_secret()
    SECRETS.register(secret)
    logger.info("calling with token %s", secret)
    logger.warning(f"f-string with {secret} inside")
    logger.debug("dict args %(token)s", {"token": secret})
    output = stream.getvalue()
    assert secret not in output, f"the secret leaked into the log:\n{output}"
    assert output.count(REDACTED) == 3, f"each line must show the redaction marker:\n{output}"


def test_secrets_in_exception_tracebacks_are_redacted(captured_logger):
    logger, stream = captured_logger
    secret = unique_secret("pw_")
    SECRETS.register(secret)
    try:
        raise ValueError(f"login failed for password {secret}")
    except ValueError:
        logger.exception("sync failed")
    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output, "the traceback must still be logged"
    assert "ValueError: login failed for password ***" in output, "the error text stays useful"
    assert secret not in output, f"the secret leaked through the traceback:\n{output}"


def test_records_whose_formatting_fails_are_left_untouched():
    install_log_redaction()
    SECRETS.register(unique_secret())
    factory = logging.getLogRecordFactory()
    record = factory("x", logging.INFO, __file__, 1, "%d items", ("not-a-number",), None)
    assert (record.msg, record.args) == ("%d items", ("not-a-number",)), (
        "a record with bad format args must be left for logging to report, not crash the caller"
    )


def test_empty_registry_leaves_records_untouched(monkeypatch):
    install_log_redaction()
    monkeypatch.setattr(redaction, "SECRETS", SecretRegistry())
    factory = logging.getLogRecordFactory()
    record = factory("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert (record.msg, record.args) == ("hello %s", ("world",)), (
        "with nothing registered the record must not even be formatted (cheap path)"
    )


def test_install_is_idempotent():
    install_log_redaction()
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory, "installing twice must not wrap twice"


def test_redaction_of_deeply_nested_data_does_not_recurse():
    """A hostile webhook body nested far deeper than Python's recursion limit."""
    depth = 5000
    data = current = {}
    for _ in range(depth):
        current["child"] = {"api_key": "k-123456", "n": [1, (2, 3)]}
        current = current["child"]
    redacted = redact_mapping(data)
    node, seen = redacted, 0
    while "child" in node:
        node = node["child"]
        seen += 1
        assert node["api_key"] == REDACTED
        assert node["n"] == [1, (2, 3)], "lists stay lists, tuples stay tuples"
    assert seen == depth
    assert data["child"]["api_key"] == "k-123456", "the original is not modified"


class Params:
    """Same shape as odoo.api.Params, which Odoo logs RPC arguments with."""

    def __init__(self, args, kwargs):
        self.args = args
        self.kwargs = kwargs

    def __str__(self):
        return ", ".join(
            [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        )


def test_rpc_arguments_are_redacted_by_key_before_the_secret_is_known(captured_logger):
    """Odoo logs "call connector.backend(5,).web_save(...)" at debug level before the method
    runs, so before the vault has registered the new credential: redacted by its field name."""
    logger, stream = captured_logger
    token = unique_secret("typed-token-")
    params = Params(
        [[5], {"api_token": token, "name": "Harvest", "webhook_secret": token + "-w"}],
        {"specification": {"name": {}}, "context": {"lang": "en_US"}},
    )
    logger.debug("call %s.%s(%s)", "connector.backend(5,)", "web_save", params)
    output = stream.getvalue()
    assert token not in output, f"a typed credential reached the debug log:\n{output}"
    assert "'name': 'Harvest'" in output, "everything else stays readable"
    assert params.args[1]["api_token"] == token, "the caller's arguments are not modified"


def test_secret_query_parameters_in_access_log_lines_are_redacted(captured_logger):
    logger, stream = captured_logger
    logger.info(
        '"%s" %s %s',
        "GET /connector_crm/oauth/callback?code=abc123xyz&state=5.n0nce HTTP/1.1",
        302,
        0,
    )
    output = stream.getvalue()
    assert "abc123xyz" not in output, f"an authorization code reached the access log:\n{output}"
    assert "code=***" in output and "state=5.n0nce" in output, output
