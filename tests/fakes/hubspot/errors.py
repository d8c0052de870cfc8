"""HubSpot's error answers (API shape and OAuth shape)."""

import uuid


class HubSpotError(Exception):
    """An API error answer in HubSpot's shape; raised by handlers, turned into a response."""

    def __init__(self, status, message, category, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }


class _OAuthError(Exception):
    """OAuth endpoints answer 400 ``{"status": "BAD_...", "message": ...}``, not the API shape."""

    def __init__(self, status, message):
        super().__init__(message)
        self.body = {"status": status, "message": message, "correlationId": str(uuid.uuid4())}
