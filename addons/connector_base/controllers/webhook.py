"""Webhook intake: verify, queue durably, answer fast, whatever the request holds.

URL: ``/connector/webhook/<database>/<backend key>`` (shown on the backend form). The database is
in the URL so that the route works on servers with several databases and no dbfilter; for that,
connector_base must be a server-wide module (``server_wide_modules = base,web,connector_base``),
otherwise Odoo only routes it when the request resolves to one database (dbfilter or mono-db).

Answers (readme/DESCRIPTION.md, Webhooks): 404 unknown database or backend, 405 not a POST,
400 a body that cannot be read off the connection (malformed chunking, cut short), 413 body too
large, 401 bad/stale signature (nothing stored), 503 signatures cannot be checked on this server
now (retry later), 200 with the queued job ids; a signed but unreadable body is stored as a
needs-attention job with its raw body and gets 200 (the sender must not retry forever).

The route has a dispatcher of its own: Odoo's ``http`` dispatcher parses form-encoded and
multipart bodies before the controller runs, which consumes the raw body a signature is computed
on. This one reads the raw bytes (bounded, chunked bodies too) and never parses a form.
"""

import functools
import json
import logging
import re
import time
from contextlib import closing

from werkzeug.exceptions import ClientDisconnected

from odoo import SUPERUSER_ID, api, http, sql_db
from odoo.http import HttpDispatcher, request
from odoo.modules.registry import Registry
from odoo.service.model import retrying

from ..const import WEBHOOK_HARD_MAX_BYTES

_logger = logging.getLogger(__name__)

# Odoo's own rule for database names (odoo.service.db.DBNAME_PATTERN).
DBNAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
READ_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    pass


class WebhookDispatcher(HttpDispatcher):
    """``type="connector_webhook"`` routes: the body is read raw, never parsed as a form."""

    routing_type = "connector_webhook"

    def dispatch(self, endpoint, args):
        # Only the route's own arguments: no form parsing (and no CSRF token: csrf=False).
        self.request.params = dict(args)
        if self.request.db:
            return self.request.registry["ir.http"]._dispatch(endpoint)
        return endpoint(**self.request.params)


def read_raw_body(httprequest, limit):
    """The request body as bytes, at most ``limit`` (BodyTooLarge beyond), read once.

    Cached on the request: Odoo retries a request's transaction after a serialization failure
    and the connection can be read only once. Chunked bodies (no Content-Length) are read from
    the input stream, which Odoo's request wrapper does not expose.
    """
    wrapped = getattr(httprequest, "_HTTPRequest__wrapped", httprequest)
    cached = getattr(wrapped, "_connector_raw_body", None)
    if cached is not None:
        return cached
    length = httprequest.content_length
    if length is not None and length > limit:
        raise BodyTooLarge()
    stream = wrapped.stream if hasattr(wrapped, "stream") else None
    if stream is None:
        body = httprequest.get_data()
    else:
        parts, size = [], 0
        while True:
            chunk = stream.read(READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            parts.append(chunk)
        body = b"".join(parts)
    if len(body) > limit:
        raise BodyTooLarge()
    wrapped._connector_raw_body = body
    return body


def _json_response(status, data):
    return request.make_response(
        json.dumps(data),
        headers=[("Content-Type", "application/json")],
        status=status,
    )


def database_allowed(dbname):
    """The database named in the URL is visible to this host (dbfilter) and has connector_base
    installed; otherwise the URL is unknown (404), never a server error."""
    if not dbname or not DBNAME_PATTERN.fullmatch(dbname):
        return False
    if request.db:
        return request.db == dbname
    try:
        visible = dbname in http.db_list(
            force=True, host=request.httprequest.environ.get("HTTP_HOST")
        )
    except Exception:  # listing fails when list_db is disabled
        visible = dbname in http.db_filter([dbname])
    return visible and _connector_installed(dbname)


def _connector_installed(dbname):
    try:
        with closing(sql_db.db_connect(dbname).cursor()) as cr:
            cr.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'ir_module_module'"
            )
            if not cr.fetchone():
                return False
            cr.execute(
                "SELECT 1 FROM ir_module_module WHERE name = 'connector_base' AND state = 'installed'"
            )
            return bool(cr.fetchone())
    except Exception:  # an unreachable database is an unknown URL
        _logger.info("connector webhook: database %s is not usable", dbname, exc_info=True)
        return False


def run_in_database(dbname, function):
    """Call ``function(env)`` as superuser in ``dbname``, committed before the response.

    In a request already bound to that database the request's own transaction is used (Odoo
    commits it before sending the response); otherwise a cursor of its own is opened.
    """
    if request.db == dbname and request.env is not None:
        # Odoo's request layer already retries this transaction on serialization failures.
        return function(request.env(user=SUPERUSER_ID, su=True))
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # Two deliveries of one event racing on the idempotency key: under REPEATABLE READ the
        # second gets a serialization failure once the first commits; retried, it finds the job.
        return retrying(functools.partial(function, env), env)


class ConnectorWebhookController(http.Controller):
    @http.route(
        "/connector/webhook/<string:dbname>/<string:key>",
        type="connector_webhook",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def receive(self, dbname, key, **_params):
        if not database_allowed(dbname):
            return _json_response(404, {"error": "unknown webhook URL"})
        httprequest = request.httprequest
        try:
            body = read_raw_body(httprequest, WEBHOOK_HARD_MAX_BYTES)
        except BodyTooLarge:
            return _json_response(413, {"error": "body too large"})
        except (ClientDisconnected, OSError, ValueError) as exc:
            # Cut short, or chunked encoding that does not parse: nothing to verify.
            _logger.warning("connector webhook: unreadable request body (%s)", exc)
            return _json_response(400, {"error": "the request body could not be read"})
        path = httprequest.full_path if httprequest.query_string else httprequest.path
        headers = dict(httprequest.headers.items())
        status, data = run_in_database(
            dbname,
            lambda env: env["connector.backend"]._webhook_receive(
                key,
                method=httprequest.method,
                path=path,
                request_url=httprequest.url,
                headers=headers,
                body=body,
                content_type=httprequest.mimetype,
                now=time.time(),
            ),
        )
        return _json_response(status, data)
