"""Keep secrets out of logs, error messages and stored request traces.

Two complementary mechanisms:

* structural redaction of dicts, headers and URLs by key name (``SECRET_KEY_PATTERN``);
* a process-wide registry of known secret values (``SECRETS``) scrubbed from any text, installed
  on every log record by ``install_log_redaction`` so even a stray ``_logger.info(token)`` or a
  traceback quoting a password does not reach the log.
"""

import logging
import re
import threading
from collections.abc import Mapping
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

REDACTED = "***"

# Rule: a key is secret when its name ENDS with a secret word (case-insensitive), optionally
# followed by a plural "s" or digits. The word may be glued (accessToken, apikey) or preceded by
# any prefix (client_secret, X-Auth-Token, refresh_token). Ending with the word keeps metadata
# about secrets visible: token_type, tokenizer, password_expiry, signature_date are not secret.
SECRET_KEY_PATTERN = re.compile(
    r"(?:password|passwd|passphrase|pwd|secret|token|authorization|assertion|signature"
    r"|credentials?|cookie|auth[_\-. ]?code"
    r"|(?:api|private|secret|access|signing|encryption)[_\-. ]?key)(?:s|\d+)?$",
    re.IGNORECASE,
)

# Headers always redacted, whatever the pattern says.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
# "Bearer abc", "Basic abc", "Digest ...": keep the scheme word, it helps debugging.
_AUTH_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s+\S")


def is_secret_key(name) -> bool:
    """True when a mapping key / header / query parameter name looks like it holds a secret."""
    return isinstance(name, str) and SECRET_KEY_PATTERN.search(name) is not None


def redact_mapping(value):
    """Return a deep copy of ``value`` (dicts, lists, tuples) with secret-looking keys redacted.

    None and empty strings under secret keys are kept: they reveal nothing and show that the
    secret is missing, which is what one is usually debugging.
    """
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED if is_secret_key(key) and item not in (None, "") else redact_mapping(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_mapping(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_mapping(item) for item in value)
    return value


def redact_headers(headers: Mapping) -> dict:
    """Return a copy of HTTP headers with credentials redacted (the auth scheme word is kept)."""
    redacted = {}
    for name, value in (headers or {}).items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if str(name).lower() in _SECRET_HEADERS or is_secret_key(name):
            scheme = _AUTH_SCHEME.match(value) if isinstance(value, str) else None
            redacted[name] = f"{scheme.group(1)} {REDACTED}" if scheme else REDACTED
        else:
            redacted[name] = SECRETS.redact(value) if isinstance(value, str) else value
    return redacted


def _redact_query(query: str) -> str:
    # Edited piecewise rather than parse/re-encode, so the rest of the URL stays byte-identical.
    parts = []
    for part in query.split("&"):
        name, sep, _value = part.partition("=")
        if sep and is_secret_key(unquote_plus(name)):
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """Return ``url`` with the userinfo password and secret-looking query parameters redacted.

    The fragment is treated like a query too (OAuth implicit flow puts access_token there).
    """
    if not isinstance(url, str):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. malformed IPv6 host: fall back to the value registry only
        return SECRETS.redact(url)
    netloc = parts.netloc
    userinfo, at, hostinfo = netloc.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        if colon:
            netloc = f"{user}:{REDACTED}@{hostinfo}"
    redacted = urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _redact_query(parts.query),
            _redact_query(parts.fragment),
        )
    )
    return SECRETS.redact(redacted)


class SecretRegistry:
    """Thread-safe, process-wide set of secret values to scrub from any text.

    Values shorter than ``MIN_LENGTH`` are ignored: redacting "1234" everywhere would mangle
    unrelated text and a 4-character secret is not worth protecting that way. The registry is
    bounded (oldest values dropped first) because access tokens are refreshed for the lifetime
    of a worker.
    """

    MIN_LENGTH = 6

    def __init__(self, max_entries: int = 1000):
        self._lock = threading.Lock()
        self._values: dict[str, None] = {}  # insertion-ordered set, oldest first
        self._max_entries = max_entries
        self._longest_first: tuple[str, ...] = ()  # immutable snapshot read without the lock

    def __len__(self):
        return len(self._longest_first)

    def register(self, value) -> None:
        """Remember a secret so that ``redact`` scrubs it (and its URL-encoded forms)."""
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str) or len(value) < self.MIN_LENGTH:
            return
        variants = {value, quote(value, safe=""), quote_plus(value, safe="")}
        with self._lock:
            if all(variant in self._values for variant in variants):
                return
            for variant in variants:
                self._values.pop(variant, None)  # re-registering makes it the newest
                self._values[variant] = None
            while len(self._values) > self._max_entries:
                self._values.pop(next(iter(self._values)))
            # Longest first, so a secret containing another one is replaced whole.
            self._longest_first = tuple(sorted(self._values, key=len, reverse=True))

    def clear(self) -> None:
        """Forget every value (meant for tests)."""
        with self._lock:
            self._values.clear()
            self._longest_first = ()

    def redact(self, text) -> str:
        """Return ``text`` with every registered secret replaced by REDACTED."""
        if not isinstance(text, str):
            return text
        # Substring tests run in C and stay fast for a few hundred values, unlike one huge
        # regex alternation that must be recompiled on every registration.
        for value in self._longest_first:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


SECRETS = SecretRegistry()

_install_lock = threading.Lock()
_installed = False


def redact_log_record(record: logging.LogRecord) -> None:
    """Redact registered secrets from one log record, in place (cheap when none is registered)."""
    if not len(SECRETS):  # cheap path: nothing registered yet
        return
    try:
        message = record.getMessage()
    except Exception:  # bad format args: logging reports them itself
        return
    record.msg = SECRETS.redact(message)
    record.args = ()
    if record.exc_info and not record.exc_text:
        # Formatter.format() reuses exc_text, so the traceback is rendered redacted.
        record.exc_text = SECRETS.redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = SECRETS.redact(record.stack_info)


def install_log_redaction() -> None:
    """Redact registered secrets from every log record created in this process (idempotent)."""
    global _installed
    with _install_lock:
        current = logging.getLogRecordFactory()
        if _installed or getattr(current, "_connector_redaction", False):
            _installed = True
            return

        def redacting_record_factory(*args, **kwargs):
            record = current(*args, **kwargs)
            redact_log_record(record)
            return record

        redacting_record_factory._connector_redaction = True
        logging.setLogRecordFactory(redacting_record_factory)
        _installed = True
