"""Connect (OAuth 2.0 authorization code) of Harvest and Kantata backends.

The adapter builds the consent URL and exchanges the code (``authorize_url``, ``exchange_code``);
this file keeps the state check and the tokens in the vault.
"""

import hashlib
import secrets
from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.connector_base.const import CTX_NO_AUDIT

OAUTH_STATE_TTL = timedelta(minutes=15)


class ConnectorBackend(models.Model):
    _inherit = "connector.backend"

    # ------------------------------------------------------------------------------------------
    # Connect (OAuth 2.0 authorization code)
    # ------------------------------------------------------------------------------------------

    def action_psa_connect(self):
        """Start Connect: the browser goes to the PSA's consent page, then to our callback."""
        self.ensure_one()
        self._check_manager()
        if self.psa_auth != "oauth":
            raise UserError(
                _("Choose the authentication 'Connect (OAuth 2.0)' first, then Connect.")
            )
        if not self.sudo().psa_client_id or not self._get_secret("client_secret"):
            raise UserError(_("Set the OAuth client ID and secret of your PSA app first."))
        nonce = secrets.token_urlsafe(32)
        state = f"{self.id}.{nonce}"
        self.sudo().with_context(**{CTX_NO_AUDIT: True}).write(
            {
                "psa_oauth_state_hash": hashlib.sha256(state.encode()).hexdigest(),
                "psa_oauth_state_expiry": fields.Datetime.now() + OAUTH_STATE_TTL,
            }
        )
        url = self._adapter().authorize_url(state, self.psa_redirect_uri)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _psa_check_oauth_state(self, state):
        self.ensure_one()
        backend = self.sudo()
        expected, expiry = backend.psa_oauth_state_hash, backend.psa_oauth_state_expiry
        backend.with_context(**{CTX_NO_AUDIT: True}).write(
            {"psa_oauth_state_hash": False, "psa_oauth_state_expiry": False}
        )
        given = hashlib.sha256((state or "").encode()).hexdigest()
        if not expected or not secrets.compare_digest(expected, given):
            raise UserError(
                _(
                    "The answer does not match the Connect request (state mismatch): click Connect again."
                )
            )
        if not expiry or expiry < fields.Datetime.now():
            raise UserError(_("The Connect request expired: click Connect again."))

    def _psa_oauth_callback(self, code, state):
        """The callback route: check the state, exchange the code, keep the tokens."""
        self.ensure_one()
        self._check_manager()
        self._psa_check_oauth_state(state)
        adapter = self._adapter()
        token = adapter.exchange_code(code, self.psa_redirect_uri)
        self._psa_store_token(token)
        message = adapter.after_connect()
        self.message_post(body=_("Connected: tokens stored. %s", message or ""))
        return True

    def _psa_store_token(self, token):
        """Keep a new OAuth token (and a rotated refresh token) in the vault."""
        backend = self.sudo()
        backend._set_secret("api_token", token.access_token)
        if token.refresh_token:
            backend._set_secret("refresh_token", token.refresh_token)
        backend.with_context(**{CTX_NO_AUDIT: True}).write(
            {"psa_token_expires_at": token.expires_at or 0.0}
        )
