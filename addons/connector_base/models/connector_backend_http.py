"""HTTP of connector.backend: the client with the backend's settings, and Test connection."""

import logging
import threading

import requests

from odoo import _, models

from ..const import CTX_CORRELATION_ID, HEALTH_DEGRADED, HEALTH_DOWN, HEALTH_OK
from ..engine.errors import AUTH, AuthError, ConnectorError
from ..engine.http_client import HttpClient
from ..engine.ratelimit import bucket_for

_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()


def _backend_session(dbname, backend_id):
    """One requests session per backend and process: connections are reused between jobs."""
    key = (dbname, backend_id)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = requests.Session()
        return session


class ConnectorBackendHttp(models.Model):
    _inherit = "connector.backend"

    def _http_client(
        self, base_url=None, auth=None, correlation_id=None, quick_retries=0, classify_error=None
    ):
        """A requests-based client with this backend's timeouts, rate limit and correlation id.

        Adapters call it through ``adapter.http_client()``, which adds their ``classify_error``
        (the remote system's own error codes, e.g. a daily limit answered as 403).
        """
        self.ensure_one()
        base = base_url or self.api_base_url
        if not base:
            raise AuthError(
                _(
                    "Backend %(backend)s has no API base URL: set it on the backend.",
                    backend=self.name,
                )
            )
        bucket = None
        if self.rate_limit:
            bucket = bucket_for((self.env.cr.dbname, self.id), self.rate_limit)
        correlation = correlation_id or self.env.context.get(CTX_CORRELATION_ID)
        return HttpClient(
            base,
            timeout=(self.timeout_connect, self.timeout_read),
            auth=auth,
            rate_limiter=bucket,
            correlation_id=correlation,
            session=_backend_session(self.env.cr.dbname, self.id),
            logger=logging.getLogger(f"odoo.addons.connector_base.http.{self.backend_type}"),
            quick_retries=quick_retries,
            classify_error=classify_error,
        )

    def action_test_connection(self):
        """Call the remote API for real (``adapter.test_connection()``) and report what answered."""
        self.ensure_one()
        self._check_manager()
        try:
            message = self._adapter().test_connection()
        except ConnectorError as exc:
            # Not raised: a UserError would roll back the health this test just measured.
            health = HEALTH_DOWN if exc.error_class == AUTH else HEALTH_DEGRADED
            self._set_health(health, exc.message)
            failure = _(
                "Test connection of %(backend)s failed: %(error)s",
                backend=self.name,
                error=exc.message,
            )
            self.message_post(body=failure)
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": _("Connection failed"),
                    "message": failure,
                    "type": "danger",
                    "sticky": True,
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        self._set_health(HEALTH_OK, message)
        self.message_post(body=_("Test connection succeeded: %s", message))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Connection OK"),
                "message": message,
                "type": "success",
                "sticky": False,
            },
        }
