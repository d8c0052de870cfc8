"""Prometheus metrics: ``GET /connector/metrics/<database>`` with ``Authorization: Bearer <token>``.

The token is set (write-only) in Settings > Connectors; without a valid token it answers 401.
"""

import time

from odoo import http
from odoo.http import request

from .webhook import database_allowed, run_in_database


class ConnectorMetricsController(http.Controller):
    @http.route(
        "/connector/metrics/<string:dbname>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def metrics(self, dbname, **_params):
        if not database_allowed(dbname):
            return request.make_response("unknown database\n", status=404)
        header = request.httprequest.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""

        def render(env):
            settings = env["res.config.settings"]
            if not settings._connector_check_metrics_token(token):
                return None
            return env["connector.backend"]._metrics_text(time.time())

        text = run_in_database(dbname, render)
        if text is None:
            return request.make_response(
                "metrics need 'Authorization: Bearer <token>' with the token set in Settings\n",
                headers=[("WWW-Authenticate", "Bearer")],
                status=401,
            )
        return request.make_response(
            text, headers=[("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]
        )
