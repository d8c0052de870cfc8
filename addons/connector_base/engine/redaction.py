"""Keep secrets out of logs, error messages and stored request traces.

Two complementary mechanisms:

* structural redaction of dicts, headers and URLs by key name (``SECRET_KEY_PATTERN``);
* a process-wide registry of known secret values (``SECRETS``) scrubbed from any text, installed
  on every log record by ``install_log_redaction`` so even a stray ``_logger.info(token)`` or a
  traceback quoting a password does not reach the log.
"""

import copy as copy_module
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
_CONTAINERS = (Mapping, list, tuple)


def is_secret_key(name) -> bool:
    """True when a mapping key / header / query parameter name looks like it holds a secret."""
    return isinstance(name, str) and SECRET_KEY_PATTERN.search(name) is not None


def redact_mapping(value):
    """Return a deep copy of ``value`` (dicts, lists, tuples) with secret-looking keys redacted.

    None and empty strings under secret keys are kept: they reveal nothing and show that the
    secret is missing, which is what one is usually debugging. Iterative, so that data nested
    deeper than Python's recursion limit (a hostile webhook body) cannot crash the caller.
    """
    if not isinstance(value, _CONTAINERS):
        return value
    root = {} if isinstance(value, Mapping) else []
    made = [(root, isinstance(value, tuple), None, None)]
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        is_mapping = isinstance(source, Mapping)
        for key, item in source.items() if is_mapping else enumerate(source):
            if is_mapping and is_secret_key(key) and item not in (None, ""):
                copy = REDACTED
            elif isinstance(item, _CONTAINERS):
                copy = {} if isinstance(item, Mapping) else []
                made.append((copy, isinstance(item, tuple), target, key))
                stack.append((item, copy))
            else:
                copy = item
            if is_mapping:
                target[key] = copy
            else:
                target.append(copy)
    # Tuples are built as lists, then frozen children first (they were made after their parents).
    for copy, was_tuple, parent, key in reversed(made):
        if was_tuple:
            if parent is None:
                root = tuple(copy)
            else:
                parent[key] = tuple(copy)
    return root


def redact_log_args(args):
    """Log record arguments with secret-looking keys redacted in the containers among them.

    Odoo logs RPC calls at debug level with their arguments (``odoo.api``: "call %s.%s(%s)"
    with a ``Params`` object), before the called method could register a new credential with
    the registry below: the values typed into a credential field are redacted here by key name.
    Returns ``args`` itself when there is nothing to redact.
    """
    if isinstance(args, Mapping):
        return redact_mapping(args)
    if not isinstance(args, tuple):
        return args
    changed = False
    redacted = []
    for arg in args:
        new = arg
        if isinstance(arg, _CONTAINERS):
            new = redact_mapping(arg)
        elif hasattr(arg, "args") and hasattr(arg, "kwargs") and type(arg).__name__ == "Params":
            new = copy_module.copy(arg)
            new.args = redact_mapping(list(arg.args))
            new.kwargs = redact_mapping(dict(arg.kwargs))
        changed = changed or new is not arg
        redacted.append(new)
    return tuple(redacted) if changed else args


_QUERY_PARAM = re.compile(r"(?<=[?&])([^=&\s#\"'<>]+)=([^&\s#\"'<>]*)")


def redact_query_text(text: str) -> str:
    """Redact secret-looking query parameters of URLs written inside free text (access logs:
    "GET /callback?code=...&state=... HTTP/1.1")."""
    if not isinstance(text, str) or "=" not in text:
        return text

    def replace(match):
        name = match.group(1)
        secret = _is_secret_query_name(unquote_plus(name))
        return f"{name}={REDACTED}" if secret else match.group(0)

    return _QUERY_PARAM.sub(replace, text)


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


# Query parameters secret by their exact name in URLs: the OAuth 2.0 authorization code of a
# "Connect" callback (RFC 6749 4.1.2) is a short-lived credential; as a payload key, "code" is not.
_SECRET_QUERY_NAMES = frozenset({"code"})


def _is_secret_query_name(name: str) -> bool:
    return name.lower() in _SECRET_QUERY_NAMES or is_secret_key(name)


def _redact_query(query: str) -> str:
    # Edited piecewise rather than parse/re-encode, so the rest of the URL stays byte-identical.
    parts = []
    for part in query.split("&"):
        name, sep, _value = part.partition("=")
        if sep and _is_secret_query_name(unquote_plus(name)):
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


def _may_hold_query(record) -> bool:
    """Cheap pre-check: could the formatted message hold ``name=value`` pairs?"""
    if "=" in str(record.msg):
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(arg, str) and "=" in arg for arg in args)


def redact_log_record(record: logging.LogRecord) -> None:
    """Redact secrets from one log record, in place: credential-like keys in its arguments,
    secret query parameters in the text, and every registered secret value. A record with
    nothing of the kind is not even formatted (cheap path)."""
    args = record.args
    if args:
        redacted_args = redact_log_args(args)
        if redacted_args is not args:
            record.args = redacted_args
    registered = len(SECRETS)
    if not registered and not _may_hold_query(record):
        return
    try:
        message = record.getMessage()
    except Exception:  # bad format args: logging reports them itself
        return
    redacted = redact_query_text(message)
    if registered:
        redacted = SECRETS.redact(redacted)
    if redacted != message:
        record.msg = redacted
        record.args = ()
    if not registered:
        return
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
