"""Callback of the Connect button (OAuth 2.0 authorization code, Harvest and Kantata)."""

import logging
from html import escape

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.connector_base.engine.errors import ConnectorError

_logger = logging.getLogger(__name__)
BACKEND_URL = "/odoo/action-connector_base.action_connector_backend/{id}"


class PsaOAuthController(http.Controller):
    @http.route("/connector_psa/oauth/callback", type="http", auth="user", methods=["GET"])
    def oauth_callback(self, code=None, state=None, error=None, error_description=None, **_kw):
        backend_id = (state or "").split(".", 1)[0]
        if not backend_id.isdigit():
            raise BadRequest("The answer carries no valid state: click Connect again.")
        backend = request.env["connector.backend"].browse(int(backend_id))
        try:
            backend.check_access("write")
            if error:
                raise UserError(
                    f"The PSA refused the connection: {error} {error_description or ''}"
                )
            if not code:
                raise UserError(
                    "The PSA answered without an authorization code: click Connect again."
                )
            backend._psa_oauth_callback(code, state)
        except (UserError, AccessError, MissingError, ConnectorError) as exc:
            _logger.warning("connector_psa: Connect of backend %s failed: %s", backend_id, exc)
            message = getattr(exc, "args", [str(exc)])[0]
            return request.make_response(
                f"<h3>Connect failed</h3><p>{escape(str(message))}</p>"
                f'<p><a href="{BACKEND_URL.format(id=backend.id)}">Back to the backend</a></p>',
                status=400,
                headers=[("Content-Type", "text/html; charset=utf-8")],
            )
        return request.redirect(BACKEND_URL.format(id=backend.id))
