"""Webhook intake: verify, queue durably, answer fast.

URL: ``/connector/webhook/<database>/<backend key>`` (shown on the backend form). The database is
in the URL so that the route works on servers with several databases and no dbfilter; for that,
connector_base must be a server-wide module (``server_wide_modules = base,web,connector_base``),
otherwise Odoo only routes it when the request resolves to one database (dbfilter or mono-db).

Answers: 401 bad/stale signature (nothing stored), 404 unknown backend, 413 body too large,
200 with the queued job ids otherwise; a signed but unparseable body is stored as a
needs-attention job with its raw body and still gets 200 (the sender must not retry forever).
"""

import functools
import json
import logging
import time
from contextlib import closing

from odoo import SUPERUSER_ID, api, http, sql_db
from odoo.http import request
from odoo.modules.registry import Registry
from odoo.service.model import retrying

from ..models.connector_backend import WEBHOOK_HARD_MAX_BYTES as HARD_MAX_BYTES

_logger = logging.getLogger(__name__)


def _json_response(status, data):
    return request.make_response(
        json.dumps(data),
        headers=[("Content-Type", "application/json")],
        status=status,
    )


def database_allowed(dbname):
    """The database named in the URL is visible to this host (dbfilter) and has connector_base
    installed; otherwise the URL is unknown (404), never a server error."""
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
        type="http",
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
        length = httprequest.content_length
        if length is not None and length > HARD_MAX_BYTES:
            return _json_response(413, {"error": "body too large"})
        # Read at most the hard limit (+1 byte to detect a chunked body that exceeds it).
        body = (
            httprequest.stream.read(HARD_MAX_BYTES + 1)
            if length is None
            else httprequest.get_data()
        )
        if len(body) > HARD_MAX_BYTES:
            return _json_response(413, {"error": "body too large"})
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
