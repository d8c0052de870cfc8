"""Demo data of connector.backend (called from demo/connector_base_demo.xml only)."""

import logging

from odoo import models
from odoo.exceptions import UserError

from ..const import (
    DIRECTION_INBOUND,
    DIRECTION_OUTBOUND,
    JOB_DEAD,
    OP_GENERIC_EVENT,
    OP_NOOP,
    SOURCE_WEBHOOK,
)
from ..engine.errors import TRANSIENT

_logger = logging.getLogger(__name__)


class ConnectorBackendDemo(models.Model):
    _inherit = "connector.backend"

    def _demo_populate(self):
        """Demo data only: activate, set a webhook secret if a key is configured, queue jobs."""
        Job = self.env["connector.job"]
        for backend in self:
            backend.action_activate()
            try:
                backend._set_secret("webhook_secret", "demo-webhook-secret")
            except UserError:
                _logger.info("demo: no encryption key configured, no demo webhook secret set")
            backend._enqueue(OP_NOOP, {"demo": True}, idempotency_key="demo:noop:1")
            backend._enqueue(OP_NOOP, {"demo": True}, idempotency_key="demo:noop:2")
            backend._enqueue(
                OP_GENERIC_EVENT,
                {
                    "id": "evt-demo-1",
                    "type": "contact.updated",
                    "object_id": "C-1001",
                    "data": {"name": "Ada Lovelace"},
                },
                idempotency_key="event:evt-demo-1",
                record_key="contact:C-1001",
                direction=DIRECTION_INBOUND,
                source=SOURCE_WEBHOOK,
            )
            dead = backend._enqueue(
                OP_NOOP,
                {"demo": "an outbound call that kept failing"},
                idempotency_key="demo:dead:1",
                direction=DIRECTION_OUTBOUND,
            )
            self.env.cr.execute(
                """UPDATE connector_job SET state = %s, attempts = max_attempts,
                       error_class = %s, done_at = create_date,
                       last_error = '503 Service Unavailable from http://127.0.0.1:8071/api '
                                    '(gave up after 8 attempts)'
                   WHERE id = %s""",
                (JOB_DEAD, TRANSIENT, dead.id),
            )
            Job.invalidate_model()
