"""The Connect button of CRM backends (OAuth authorization-code flow): the state sent to the
CRM's login page, checked on the callback (controllers/oauth.py), and the refresh token kept."""

import hashlib
import secrets

from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.connector_base.const import CTX_NO_AUDIT

from ..const import OAUTH_STATE_TTL


class ConnectorBackendOauth(models.Model):
    _inherit = "connector.backend"

    def action_crm_connect(self):
        """Start the OAuth authorization-code flow: the browser goes to the CRM's login page."""
        self.ensure_one()
        self._check_manager()
        if self.crm_auth_flow not in ("web_server", "oauth"):
            raise UserError(
                _(
                    "Connect is for the 'Connect' authentication flows: choose one first, save, then Connect."
                )
            )
        if not self.sudo().crm_client_id:
            raise UserError(_("Set the client ID (consumer key) first."))
        nonce = secrets.token_urlsafe(32)
        state = f"{self.id}.{nonce}"
        self.sudo().with_context(**{CTX_NO_AUDIT: True}).write(
            {
                "crm_oauth_state_hash": hashlib.sha256(state.encode()).hexdigest(),
                "crm_oauth_state_expiry": fields.Datetime.now() + OAUTH_STATE_TTL,
            }
        )
        url = self._adapter().authorize_url(state, self.crm_redirect_uri)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _crm_check_oauth_state(self, state):
        """The state came back unchanged, within its lifetime, and only once."""
        self.ensure_one()
        backend = self.sudo()
        expected = backend.crm_oauth_state_hash
        expiry = backend.crm_oauth_state_expiry
        backend.with_context(**{CTX_NO_AUDIT: True}).write(
            {"crm_oauth_state_hash": False, "crm_oauth_state_expiry": False}
        )
        given = hashlib.sha256((state or "").encode()).hexdigest()
        if not expected or not secrets.compare_digest(expected, given):
            raise UserError(
                _(
                    "The login answer does not match the Connect request (state mismatch): click Connect again."
                )
            )
        if not expiry or expiry < fields.Datetime.now():
            raise UserError(_("The Connect request expired: click Connect again."))

    def _crm_oauth_callback(self, code, state):
        """Called by the callback route: check the state, exchange the code, keep the tokens."""
        self.ensure_one()
        self._check_manager()
        self._crm_check_oauth_state(state)
        token = self._adapter().exchange_code(code, self.crm_redirect_uri)
        if not token.refresh_token:
            raise UserError(
                _(
                    "The CRM did not return a refresh token: check the app's scopes (refresh_token / offline access)."
                )
            )
        self._set_secret("refresh_token", token.refresh_token)
        values = {}
        if token.instance_url:
            values["crm_instance_url"] = token.instance_url
        if values:
            self.sudo().write(values)
        self._crm_forget_tokens()
        self.message_post(body=_("Connected to %s: refresh token stored.", self._crm_label()))
        return True
