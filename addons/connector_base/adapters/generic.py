"""The built-in "generic" type: any system that sends HMAC-signed JSON events (see
engine/signatures.py for the scheme) and answers a GET on its API base URL."""

import time

from odoo import _

from ..const import DIRECTION_INBOUND, OP_GENERIC_EVENT, SOURCE_WEBHOOK, WEBHOOK_EVENT_ID_HEADER
from ..engine import signatures
from ..engine.http_client import BearerTokenAuth
from .base import BackendAdapter


class GenericAdapter(BackendAdapter):
    """Generic events become ``generic.event`` jobs, handled by ``event_handlers()`` (addons
    that understand an event type subclass this adapter and add their handlers)."""

    def test_connection(self):
        backend = self.backend
        token = backend._get_secret("api_token")
        client = self.http_client(auth=BearerTokenAuth(token) if token else None)
        started = time.monotonic()
        response = client.get("")
        elapsed = (time.monotonic() - started) * 1000
        return _(
            "%(url)s answered HTTP %(status)s in %(ms)d ms",
            url=backend.api_base_url,
            status=response.status_code,
            ms=elapsed,
        )

    def webhook_verify(self, method, url, headers, body, now):
        backend = self.backend
        secret = backend._get_secret("webhook_secret")
        if not secret:
            raise signatures.SignatureError(
                f"backend {backend.id} has no webhook signing secret: set one on the backend",
                reason="missing",
            )
        signatures.verify_generic(
            secret, headers, method, url, body, now=now, tolerance=backend.webhook_tolerance
        )

    def webhook_events(self, payload, headers):
        """One event object or a list of them, each
        ``{"id": <event id>, "type": <event type>, "object_id": <remote record id>, ...}``.

        The event id makes deliveries idempotent; the object id orders events of one record.
        """
        events = payload if isinstance(payload, list) else [payload]
        specs = []
        for event in events:
            if not isinstance(event, dict) or not event.get("type"):
                raise ValueError("each event must be a JSON object with a 'type'")
            event_id = event.get("id") or headers.get(WEBHOOK_EVENT_ID_HEADER)
            specs.append(
                {
                    "operation": OP_GENERIC_EVENT,
                    "payload": event,
                    "idempotency_key": f"event:{event_id}" if event_id else None,
                    "record_key": (
                        f"{event.get('object_type', 'object')}:{event['object_id']}"
                        if event.get("object_id") is not None
                        else None
                    ),
                    "direction": DIRECTION_INBOUND,
                    "source": SOURCE_WEBHOOK,
                }
            )
        return specs
