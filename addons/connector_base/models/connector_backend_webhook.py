"""Webhook intake of connector.backend: find the backend, check size and signature, queue.

Every request gets a documented answer, whatever it holds (see controllers/webhook.py): 404
unknown URL, 413 too large, 401 bad signature (nothing stored), 503 when this server cannot check
signatures now (no encryption key: the sender retries later), 200 queued, or 200 "stored for
review" for a validly signed body that cannot be read as events (kept whole, as a needs-attention
job a person can fix and replay). The verified events are queued in this transaction, which
commits before the answer: durable first, then acknowledged.
"""

import base64
import hashlib
import logging
import re
import secrets

from odoo import _, api, fields, models

from ..const import (
    DIRECTION_INBOUND,
    JOB_NEEDS_ATTENTION,
    MAX_JSON_DEPTH,
    OP_WEBHOOK_UNPARSEABLE,
    SOURCE_WEBHOOK,
    WEBHOOK_DEFAULT_MAX_BYTES,
    WEBHOOK_EVENT_ID_HEADER,
    WEBHOOK_HARD_MAX_BYTES,
)
from ..engine import signatures
from ..engine.errors import BusinessError
from ..engine.json_body import loads_bounded

_logger = logging.getLogger(__name__)

# Webhook keys are generated with secrets.token_urlsafe(24): anything else is an unknown URL.
WEBHOOK_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ConnectorBackendWebhook(models.Model):
    _inherit = "connector.backend"

    public_base_url = fields.Char(
        string="Public URL of this Odoo",
        tracking=True,
        help="The URL under which remote systems reach this Odoo (e.g. behind a reverse proxy). "
        "Webhook signatures are verified against it. Empty: the web.base.url parameter.",
    )
    webhook_key = fields.Char(
        readonly=True,
        copy=False,
        index=True,
        default=lambda self: self._new_webhook_key(),
        groups="connector_base.group_connector_manager",
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", string="Webhook URL")
    webhook_max_bytes = fields.Integer(
        string="Webhook size limit (bytes)",
        default=WEBHOOK_DEFAULT_MAX_BYTES,
        help="Larger bodies are refused with HTTP 413.",
    )
    webhook_tolerance = fields.Integer(
        string="Webhook timestamp tolerance (s)",
        default=300,
        help="Signed webhooks whose timestamp is further from now are refused as stale.",
    )

    @api.model
    def _new_webhook_key(self):
        return secrets.token_urlsafe(24)

    @api.depends("public_base_url", "webhook_key")
    def _compute_webhook_url(self):
        default_base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            key = backend.sudo().webhook_key
            base = (backend.public_base_url or default_base).rstrip("/")
            backend.webhook_url = (
                f"{base}/connector/webhook/{self.env.cr.dbname}/{key}" if key else False
            )

    @api.model
    def _webhook_receive(self, key, *, method, path, request_url, headers, body, content_type, now):
        """Intake of one webhook request (superuser). Returns (HTTP status, JSON data)."""
        backend = self.browse()
        if key and WEBHOOK_KEY_PATTERN.fullmatch(key):
            backend = self.search([("webhook_key", "=", key)], limit=1)
        if not backend:
            _logger.warning("connector webhook: unknown key %r...", (key or "")[:4])
            return 404, {"error": "unknown webhook URL"}
        limit = min(backend.webhook_max_bytes or WEBHOOK_DEFAULT_MAX_BYTES, WEBHOOK_HARD_MAX_BYTES)
        if len(body) > limit:
            _logger.warning(
                "connector webhook: backend %s refused a body of %s bytes (limit %s)",
                backend.id,
                len(body),
                limit,
            )
            return 413, {"error": f"body larger than {limit} bytes"}
        adapter = backend._adapter()
        url = backend._webhook_signed_url(path, request_url)
        try:
            adapter.webhook_verify(method, url, headers, body, now)
        except signatures.SignatureError as exc:
            _logger.warning(
                "connector webhook: backend %s refused a request with a bad signature (%s) from %s",
                backend.id,
                exc.reason,
                headers.get("X-Forwarded-For") or headers.get("Host"),
            )
            return 401, {"error": "invalid signature", "reason": exc.reason}
        except Exception:
            # Not the sender's fault (no encryption key on this server, a credential that does
            # not decrypt, a bug): nothing is stored, and the sender is told to come back later.
            _logger.exception("connector webhook: backend %s cannot check signatures", backend.id)
            return 503, {"error": "signatures cannot be checked now; retry later"}
        try:
            specs = adapter.webhook_events(loads_bounded(body, MAX_JSON_DEPTH), headers)
            jobs = self.env["connector.job"]._enqueue_many(backend, specs)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            job = backend._store_unparseable_webhook(body, content_type, headers, exc)
            return 200, {"status": "stored for review", "jobs": job.ids}
        return 200, {"status": "queued", "jobs": jobs.ids}

    def _store_unparseable_webhook(self, body, content_type, headers, error):
        """Keep a signed body that is not a readable event, whole, for a person to fix."""
        self.ensure_one()
        job = self._enqueue(
            OP_WEBHOOK_UNPARSEABLE,
            _raw_body_payload(body, content_type, headers),
            idempotency_key="body:" + hashlib.sha256(body).hexdigest(),
            state=JOB_NEEDS_ATTENTION,
            direction=DIRECTION_INBOUND,
            source=SOURCE_WEBHOOK,
            last_error=_(
                "A webhook passed the signature check but its body could not be read "
                "(%(error)s). Fix the sender, or edit raw_body in the payload into valid JSON "
                "and retry: the events it holds are then queued.",
                error=str(error)[:500],
            ),
        )
        _logger.warning(
            "connector webhook: backend %s stored an unparseable body as job %s", self.id, job.id
        )
        return job

    def _webhook_signed_url(self, path_and_query, request_url):
        """The URL the sender signed: the public URL of this Odoo plus the request path."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + path_and_query
        return request_url

    def _handle_unparseable_webhook(self, job):
        """Replay of a stored unparseable webhook: parse raw_body again (after an edit) and
        queue the events it holds."""
        payload = job._payload()
        raw = payload.get("raw_body") or ""
        try:
            body = (
                base64.b64decode(raw)
                if payload.get("encoding") == "base64"
                else raw.encode("utf-8", "surrogatepass")
            )
            headers = (
                {WEBHOOK_EVENT_ID_HEADER: payload["event_id"]} if payload.get("event_id") else {}
            )
            specs = self._adapter().webhook_events(loads_bounded(body, MAX_JSON_DEPTH), headers)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise BusinessError(
                _(
                    "raw_body is still not a valid event (%(error)s): edit the payload and "
                    "retry, or cancel the job.",
                    error=str(exc)[:500],
                )
            ) from None
        return self.env["connector.job"]._enqueue_many(self.sudo(), specs)


def _raw_body_payload(body, content_type, headers):
    """What is kept of a body that could not be parsed: all of it, as text or base64."""
    try:
        raw, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        raw, encoding = base64.b64encode(body).decode(), "base64"
    return {
        "raw_body": raw,
        "encoding": encoding,
        "content_type": content_type,
        "event_id": headers.get(WEBHOOK_EVENT_ID_HEADER),
    }
