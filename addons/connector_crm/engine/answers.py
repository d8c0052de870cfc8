"""JSON answers of the CRM data calls, whose body a proxy or the network may cut short.

A 2xx answer whose body is not JSON (truncated by a proxy, an HTML error page with status 200)
is a transient fault, as on the token endpoint: the call is sent again in place a few times
(the connector's calls only read or set values), then the queue retries the job with backoff.
It never becomes a needs-attention item that would hold every later job of the deal.
"""

import time

from odoo.addons.connector_base.engine.errors import TransientError
from odoo.addons.connector_base.engine.redaction import SECRETS, redact_url


def json_body(response, vendor):
    """The JSON of ``response``; None for an empty 204; TransientError for a body that is not
    JSON."""
    if response.status_code == 204 and not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        request = getattr(response, "request", None)
        method = getattr(request, "method", None) or "Request"
        snippet = SECRETS.redact((response.text or "")[:200])
        raise TransientError(
            f"{vendor} answered {method} {redact_url(response.url or '')} with HTTP "
            f"{response.status_code} and a body that is not valid JSON ({len(response.content)} "
            f"bytes: {snippet!r}), as when a proxy or the network cuts the answer short. The job "
            f"will be retried; if this keeps happening, check the proxies between Odoo and "
            f"{vendor}.",
            http_status=response.status_code,
        ) from None


def json_with_retries(send, vendor, http, sleep=time.sleep):
    """``send()`` returns a response; its JSON, sending again in place (the HTTP client's quick
    retries and waits) while the body is not JSON."""
    attempt = 0
    while True:
        response = send()
        try:
            return json_body(response, vendor)
        except TransientError:
            if attempt >= getattr(http, "quick_retries", 0):
                raise
            sleep(getattr(http, "quick_retry_wait", 0.25) * 2**attempt)
            attempt += 1
