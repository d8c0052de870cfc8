"""Webhook sender: events and requests signed with signature v3."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import unquote

import requests

from .schema import _V3_ESCAPES, _as_string


class WebhooksMixin:
    """What HubSpot sends to a webhook URL."""

    @staticmethod
    def sign_v3(secret, method, uri, body: bytes, timestamp_ms) -> str:
        """``base64(HMAC_SHA256(secret, method + uri + body + timestamp))`` on the decoded URI."""
        uri = _V3_ESCAPES.sub(lambda match: unquote(match[0]), uri)
        source = f"{method}{uri}".encode() + body + str(timestamp_ms).encode()
        digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def event(
        self,
        subscription_type,
        object_id,
        *,
        property_name=None,
        property_value=None,
        event_id=None,
        occurred_at_ms=None,
    ) -> dict:
        """One webhook event as HubSpot sends it (several go in one request's JSON array)."""
        with self._lock:
            subscription_id = self._subscription_ids.setdefault(
                subscription_type, 234_567 + len(self._subscription_ids)
            )
            event = {
                "eventId": next(self._event_ids) if event_id is None else event_id,
                "subscriptionId": subscription_id,
                "portalId": self.portal_id,
                "appId": self.app_id,
                "occurredAt": occurred_at_ms
                if occurred_at_ms is not None
                else int(self.clock().timestamp() * 1000),
                "subscriptionType": subscription_type,
                "attemptNumber": 0,
                "objectId": int(object_id),
                "changeSource": "CRM_UI",
                "sourceId": "userId:45678",
            }
        if property_name is not None:
            event["propertyName"] = property_name
            event["propertyValue"] = _as_string(property_value)
        if subscription_type.endswith(".creation"):
            event["changeFlag"] = "CREATED"
        return event

    def webhook_request(
        self, url, secret, events: list[dict], *, timestamp_ms=None, method="POST"
    ) -> requests.Response:
        """Deliver ``events`` to ``url`` like HubSpot: JSON array body, v3 signature headers.

        The timestamp defaults to the real time (not ``clock``): the receiver checks freshness
        against its own clock.
        """
        body = json.dumps(events).encode()
        timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else int(timestamp_ms)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon",
            "X-HubSpot-Signature-v3": self.sign_v3(secret, method, url, body, timestamp_ms),
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
            "X-HubSpot-Signature-Version": "v3",
        }
        return requests.request(method, url, data=body, headers=headers, timeout=10)
