"""HTTP client shared by connectors: timeouts, auth, rate limit, correlation id, error mapping.

It does not retry: the job queue does, using the error classes raised here. The one exception
is a single re-authentication and resend on HTTP 401 (an expired access token is normal).
"""

import json as jsonlib
import logging
import re
import time
from urllib.parse import urlsplit

import requests

from .backoff import parse_retry_after
from .errors import AuthError, BusinessError, TransientError
from .ratelimit import TokenBucket
from .redaction import SECRETS, redact_url

_logger = logging.getLogger(__name__)

_MAX_REMOTE_MESSAGE = 1000
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")\]]+")

# What to do about a 4xx, shown to the person who has to fix it.
_CLIENT_ERROR_HINTS = {
    400: "the remote system rejected the data: fix the record or the mapping, then retry the job",
    404: "the remote record or endpoint does not exist (deleted remotely or wrong external id): "
    "check the mapping, then retry the job",
    405: "the remote endpoint does not allow this method: the connector or its API version "
    "needs fixing",
    409: "the remote record conflicts with this change (duplicate or concurrent update): "
    "check the remote record, then retry the job",
    410: "the remote record or API version is gone: check the mapping or the API version",
    415: "the remote system does not accept this content type: the connector needs fixing",
    422: "the remote system rejected the data: fix the record or the mapping, then retry the job",
}
_DEFAULT_CLIENT_HINT = "fix the request data or the backend configuration, then retry the job"


class AuthProvider:
    """Adds credentials to requests and re-authenticates when the remote side rejects them."""

    def apply(self, headers: dict) -> None:
        """Add authentication headers to ``headers`` (in place)."""

    def refresh(self) -> None:
        """Re-authenticate after a 401 (e.g. fetch a new access token)."""
        raise AuthError(
            "The remote system rejected the credentials (HTTP 401): check the backend's "
            "credentials, then test the connection.",
            http_status=401,
        )


class BearerTokenAuth(AuthProvider):
    """Static bearer token (API key style): nothing to refresh."""

    def __init__(self, token: str):
        if not token:
            raise AuthError("No API token is set: set the token on the backend.")
        self._token = token
        SECRETS.register(token)  # scrubbed from any log line or error text from now on

    def __repr__(self):
        return "<BearerTokenAuth ***>"

    def apply(self, headers: dict) -> None:
        headers["Authorization"] = f"Bearer {self._token}"

    def refresh(self) -> None:
        raise AuthError(
            "The remote system rejected the API token (HTTP 401): the token was revoked or "
            "expired. Set a new token on the backend, then test the connection.",
            http_status=401,
        )


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _error_text(item) -> str:
    """Message of one error object, prefixed by its code/category when there is one."""
    if not isinstance(item, dict):
        return str(item)
    message = item.get("message") or item.get("error_description") or item.get("detail") or ""
    code = item.get("errorCode") or item.get("category") or item.get("code") or ""
    if not isinstance(message, str):
        message = jsonlib.dumps(message)
    text = f"{code}: {message}" if code and message else str(message or code)
    fields = item.get("fields")
    if fields and isinstance(fields, list):
        text += f" (fields: {', '.join(map(str, fields))})"
    return text


def _payload_message(payload) -> str:
    if isinstance(payload, list):  # Salesforce: [{"message": ..., "errorCode": ...}, ...]
        texts = [_error_text(item) for item in payload if item]
        return "; ".join(text for text in texts if text)
    if not isinstance(payload, dict):
        return ""
    errors = payload.get("errors")
    if isinstance(errors, list) and errors:  # Kantata and batch APIs: {"errors": [{...}]}
        texts = [_error_text(item) for item in errors if item]
        if any(texts):
            return "; ".join(text for text in texts if text)
    error = payload.get("error")
    if isinstance(error, dict):  # {"error": {"message": ..., "code": ...}}
        return _error_text(error)
    if isinstance(error, str) and error:  # OAuth: {"error": ..., "error_description": ...}
        description = payload.get("error_description")
        return f"{error}: {description}" if description else error
    if payload.get("message"):  # HubSpot: {"message": ..., "category": ...} and many others
        return _error_text(payload)
    return ""


def remote_error_message(response) -> str:
    """Best-effort human-readable error text from a response body, secrets redacted."""
    try:
        payload = response.json()
    except ValueError:  # requests' JSONDecodeError is a ValueError
        payload = None
    message = _payload_message(payload) if payload is not None else ""
    if not message:
        message = " ".join((response.text or "").split())[:300]
    return SECRETS.redact(message[:_MAX_REMOTE_MESSAGE])


def parse_json(response) -> object:
    """Return the response JSON; a malformed body is a BusinessError (needs a look, no retry).

    A 204 No Content gives None.
    """
    if response.status_code == 204 and not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        snippet = SECRETS.redact((response.text or "")[:200])
        request = getattr(response, "request", None)
        method = getattr(request, "method", None) or "Request"
        raise BusinessError(
            f"{method} {redact_url(response.url or '')} returned a body that is not valid JSON: "
            f"{snippet!r}. The remote system or a proxy in between returned an unexpected "
            "answer: check the remote system's status, then retry the job.",
            http_status=response.status_code,
        ) from None


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
QUICK_RETRY_MAX_WAIT = 5.0  # seconds; a longer Retry-After is for the queue's backoff


class HttpClient:
    """requests-based client with explicit timeouts and connector error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        auth: AuthProvider | None = None,
        rate_limiter: TokenBucket | None = None,
        correlation_id: str | None = None,
        user_agent: str = "odoo-connector/18.0",
        session: requests.Session | None = None,
        logger: logging.Logger | None = None,
        default_headers: dict | None = None,
        quick_retries: int = 0,
        quick_retry_wait: float = 0.25,
        classify_error=None,
    ):
        if not timeout:
            raise ValueError("timeout is required: a request without one can hang a worker")
        self.base_url = base_url
        self.timeout = timeout
        self.auth = auth
        self.rate_limiter = rate_limiter
        self.correlation_id = correlation_id
        self.user_agent = user_agent
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.logger = logger or _logger
        self.default_headers = dict(default_headers or {})
        # A blip (one 5xx, a dropped connection) is retried here, a few times and briefly, for
        # idempotent requests: a pull of many pages then does not start over for one lost page.
        # Longer outages, and waits the remote asks for, go back to the queue's backoff.
        self.quick_retries = quick_retries
        self.quick_retry_wait = quick_retry_wait
        # The remote system's own error knowledge (its adapter's hook): called with an error
        # response, returns a connector error, or None for the generic mapping below.
        self.classify_error = classify_error

    def close(self) -> None:
        """Close the underlying session when this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def build_url(self, path_or_url: str) -> str:
        """Absolute URLs are kept; relative paths are appended to base_url, keeping its path."""
        if urlsplit(path_or_url).scheme in ("http", "https"):
            return path_or_url
        if not path_or_url:
            return self.base_url
        return f"{self.base_url.rstrip('/')}/{path_or_url.lstrip('/')}"

    # Shortcuts -------------------------------------------------------------------------------

    def get(self, path_or_url, **kwargs) -> requests.Response:
        return self.request("GET", path_or_url, **kwargs)

    def post(self, path_or_url, **kwargs) -> requests.Response:
        return self.request("POST", path_or_url, **kwargs)

    def put(self, path_or_url, **kwargs) -> requests.Response:
        return self.request("PUT", path_or_url, **kwargs)

    def patch(self, path_or_url, **kwargs) -> requests.Response:
        return self.request("PATCH", path_or_url, **kwargs)

    def delete(self, path_or_url, **kwargs) -> requests.Response:
        return self.request("DELETE", path_or_url, **kwargs)

    # Core ------------------------------------------------------------------------------------

    def request(
        self,
        method,
        path_or_url,
        *,
        params=None,
        json=None,
        data=None,
        headers=None,
        expected=None,
        timeout=None,
        idempotent=None,
    ) -> requests.Response:
        """Send one request and return the response, or raise a connector error.

        ``expected``: status codes the caller accepts; any other success status is then a
        BusinessError, and a listed error status (e.g. 404 for "does it exist?") is returned.
        ``idempotent``: whether sending it twice is harmless (default: by method; a POST that
        only reads, such as a search, may say True) - only those get quick retries.
        """
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            try:
                return self._request_once(
                    method, path_or_url, params, json, data, headers, expected, timeout
                )
            except TransientError as exc:
                wait = self._quick_retry_wait(exc, attempt, idempotent)
                if wait is None:
                    raise
                self.logger.info(
                    "HTTP %s %s: %s - quick retry %s of %s in %.2f s",
                    method.upper(),
                    redact_url(self.build_url(path_or_url)),
                    exc.message,
                    attempt + 1,
                    self.quick_retries,
                    wait,
                )
                time.sleep(wait)
                attempt += 1

    def _quick_retry_wait(self, exc, attempt, idempotent):
        """Seconds to wait before retrying in place, or None to give the error to the queue."""
        if not idempotent or attempt >= self.quick_retries:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= QUICK_RETRY_MAX_WAIT else None
        return self.quick_retry_wait * (2**attempt)

    def _request_once(self, method, path_or_url, params, json, data, headers, expected, timeout):
        method = method.upper()
        url = self.build_url(path_or_url)
        timeout = timeout or self.timeout
        base_headers = {"User-Agent": self.user_agent, **self.default_headers, **(headers or {})}
        if self.correlation_id:
            base_headers["X-Correlation-ID"] = self.correlation_id
        expected = set(expected) if expected is not None else None

        refreshed = False
        while True:
            send_headers = dict(base_headers)
            if self.auth is not None:
                self.auth.apply(send_headers)
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            response = self._send(method, url, params, json, data, send_headers, timeout)
            if response.status_code != 401 or self.auth is None or refreshed:
                break
            if expected is not None and 401 in expected:
                break
            self.auth.refresh()  # raises AuthError when credentials cannot be renewed
            refreshed = True

        self._raise_for_status(method, response, expected, refreshed)
        return response

    def _log_url(self, url, params) -> str:
        try:
            prepared = requests.models.PreparedRequest()
            prepared.prepare_url(url, params)
            url = prepared.url
        except Exception:  # logging must never break the request
            pass
        return redact_url(url)

    def _send(self, method, url, params, json, data, headers, timeout) -> requests.Response:
        debug = self.logger.isEnabledFor(logging.DEBUG)
        log_url = self._log_url(url, params) if debug else None
        if debug:
            self.logger.debug("HTTP %s %s correlation_id=%s", method, log_url, self.correlation_id)
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=timeout,
            )
        except requests.exceptions.RequestException as exc:
            elapsed_ms = (time.monotonic() - started) * 1000
            if debug:
                self.logger.debug(
                    "HTTP %s %s failed after %d ms (%s) correlation_id=%s",
                    method,
                    log_url,
                    elapsed_ms,
                    type(exc).__name__,
                    self.correlation_id,
                )
            error = self._network_error(method, url, timeout, exc)
            if error is exc:
                raise
            raise error from exc
        if debug:
            elapsed_ms = (time.monotonic() - started) * 1000
            self.logger.debug(
                "HTTP %s %s -> %s in %d ms correlation_id=%s",
                method,
                log_url,
                response.status_code,
                elapsed_ms,
                self.correlation_id,
            )
        return response

    def _network_error(self, method, url, timeout, exc):
        host = host_of(url)
        connect_timeout, read_timeout = (
            timeout if isinstance(timeout, tuple) else (timeout, timeout)
        )
        details = {"method": method, "url": redact_url(url), "exception": type(exc).__name__}
        if isinstance(exc, requests.exceptions.Timeout):
            connecting = isinstance(exc, requests.exceptions.ConnectTimeout)
            phase = "connecting" if connecting else "waiting for the answer"
            return TransientError(
                f"{method} to {host} timed out while {phase} (connect timeout "
                f"{connect_timeout}s, read timeout {read_timeout}s). The job will be retried; "
                "if this keeps happening, check the remote system's status or raise the "
                "backend's timeout.",
                details=details,
            )
        if isinstance(
            exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        ):
            reason = _ERRNO_TEXT.search(str(exc))
            reason = reason.group(0).strip() if reason else type(exc).__name__
            return TransientError(
                f"Could not reach {host} for {method} ({reason}). The job will be retried; "
                f"if this keeps happening, check that {host} is reachable from the Odoo server "
                "(DNS, firewall, proxy).",
                details=details,
            )
        if isinstance(
            exc,
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ),
        ):
            return AuthError(
                f"The URL {redact_url(url)!r} is not valid ({type(exc).__name__}): fix the "
                "backend's base URL.",
                details=details,
            )
        return exc  # anything else is unexpected: let the queue report it as a bug

    def _raise_for_status(self, method, response, expected, refreshed) -> None:
        status = response.status_code
        if expected is not None and status in expected:
            return
        if 200 <= status < 400:
            if expected is None:
                return
            raise BusinessError(
                f"{method} {redact_url(response.url)} returned HTTP {status} but the connector "
                f"expected {sorted(expected)}: {remote_error_message(response)}. The remote API "
                "may have changed: check the API version configured on the backend.",
                http_status=status,
                details=self._details(method, response),
            )

        host = host_of(response.url)
        remote = remote_error_message(response)
        details = self._details(method, response, remote)
        target = f"{method} {redact_url(response.url)}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))

        if self.classify_error is not None:
            error = self.classify_error(response)
            if error is not None:
                error.http_status = error.http_status or status
                error.details = error.details or details
                raise error

        if status == 429:
            when = f"after {retry_after:g}s as requested" if retry_after is not None else "later"
            raise TransientError(
                f"{host} is rate limiting requests (HTTP 429) on {target}: {remote}. The job "
                f"will be retried {when}; lower the backend's request rate if this is frequent.",
                retry_after=retry_after,
                http_status=status,
                details=details,
            )
        if status >= 500:
            raise TransientError(
                f"{host} failed with HTTP {status} on {target}: {remote}. The job will be "
                "retried; if this persists, check the remote system's status.",
                retry_after=retry_after,
                http_status=status,
                details=details,
            )
        if status == 401:
            again = " again after re-authenticating" if refreshed else ""
            raise AuthError(
                f"{host} rejected the credentials{again} (HTTP 401) on {target}: {remote}. "
                "Check the backend's credentials, then test the connection.",
                http_status=status,
                details=details,
            )
        if status == 403:
            raise AuthError(
                f"{host} denied permission (HTTP 403) for {target}: {remote}. Grant the "
                "integration user access to this object or operation, or fix the backend "
                "configuration.",
                http_status=status,
                details=details,
            )
        hint = _CLIENT_ERROR_HINTS.get(status, _DEFAULT_CLIENT_HINT)
        raise BusinessError(
            f"{host} rejected {target} (HTTP {status}): {remote}. To fix: {hint}.",
            http_status=status,
            details=details,
        )

    def _details(self, method, response, remote=None) -> dict:
        details = {
            "method": method,
            "url": redact_url(response.url),
            "status": response.status_code,
            "correlation_id": self.correlation_id,
        }
        if remote is not None:
            details["remote_message"] = remote
        return details
