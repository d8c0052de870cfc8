"""What both PSA clients need around connector_base's HttpClient.

* JSON bodies are decoded with exact decimals; a malformed or truncated body (a proxy dropped the
  connection, a half-written page) is a *transient* error, retried in place for reads with the
  HttpClient's quick-retry budget, then left to the queue's backoff.
* Resume tokens (where a listing continues after a crash) are opaque strings to the caller.
* A "next page" URL is only followed on the API's own host, so credentials never leave it.
"""

import base64
import json
import time
from urllib.parse import urlsplit

from odoo.addons.connector_base.engine.errors import BusinessError, TransientError
from odoo.addons.connector_base.engine.redaction import SECRETS, redact_url

MAX_EMPTY_PAGES = 20  # consecutive empty pages that still say "more": the paging is stuck


def decode_json(response, vendor):
    """The body as JSON; None for an empty body (204, DELETE).

    Numbers stay JSON types so payloads can be stored as they came; ``records.to_decimal``
    turns them into exact Decimals (a float's repr is the shortest string that round-trips, so
    ``2.11`` stays ``Decimal("2.11")``).
    """
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        request = getattr(response, "request", None)
        method = getattr(request, "method", None) or "Request"
        snippet = SECRETS.redact(response.content[:120].decode("utf-8", "replace"))
        raise TransientError(
            f"{vendor} answered {method} {redact_url(response.url or '')} (HTTP "
            f"{response.status_code}) with a body that is not valid JSON (truncated or "
            f"malformed: {snippet!r}). The request will be retried.",
            http_status=response.status_code,
        ) from None


def request_json(http, method, url, *, vendor, **kwargs):
    """Send one request and decode its JSON; reads are retried when the body is malformed."""
    idempotent = kwargs.get("idempotent")
    if idempotent is None:
        idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE")
    attempts = 1 + (max(0, int(getattr(http, "quick_retries", 0) or 0)) if idempotent else 0)
    wait = float(getattr(http, "quick_retry_wait", 0.25) or 0)
    for attempt in range(attempts):
        response = http.request(method, url, **kwargs)
        try:
            return response, decode_json(response, vendor)
        except TransientError:
            if attempt + 1 >= attempts:
                raise
            time.sleep(wait * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def encode_state(state: dict) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_state(token: str, vendor) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(state, dict):
            raise ValueError
        return state
    except (ValueError, TypeError):
        raise BusinessError(
            f"The stored {vendor} resume token {token[:40]!r} is not valid: clear the stream's "
            "resume point on the backend; the next run restarts from its cursor."
        ) from None


def same_origin(url, base_url) -> bool:
    one, two = urlsplit(url), urlsplit(base_url)
    return (one.scheme, one.hostname, one.port) == (two.scheme, two.hostname, two.port)


def check_next_url(url, base_url, vendor) -> str:
    """Refuse a pagination link to another host: the request would carry our credentials."""
    if not same_origin(url, base_url):
        raise BusinessError(
            f"{vendor} returned a next-page link to another host ({redact_url(url)}), not "
            f"{redact_url(base_url)}: it was not followed so that the credentials stay with "
            f"{vendor}. Check the backend's API URL."
        )
    return url
