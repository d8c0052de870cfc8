"""OAuth 2.0 access tokens shared by the CRM clients: a per-process cache and the token call.

Access tokens live in memory only (per process, per database and backend): a job does not ask
for a new token unless the cached one was rejected (HTTP 401) or is about to expire. Refresh
tokens and private keys stay in the connector vault; nothing here is written to the database.
"""

import threading
import time
from dataclasses import dataclass, field

from odoo.addons.connector_base.engine.errors import AuthError, TransientError
from odoo.addons.connector_base.engine.http_client import AuthProvider, remote_error_message
from odoo.addons.connector_base.engine.redaction import SECRETS

# Refresh a token with a known lifetime this long before it expires.
EXPIRY_MARGIN = 60.0


@dataclass
class Token:
    access_token: str
    instance_url: str | None = None
    identity_url: str | None = None
    expires_at: float | None = None  # monotonic deadline; None when the server gives none
    refresh_token: str | None = None
    raw: dict = field(default_factory=dict)

    def fresh(self, now=None) -> bool:
        if self.expires_at is None:
            return True
        return (now if now is not None else time.monotonic()) < self.expires_at - EXPIRY_MARGIN


class TokenCache:
    """Thread-safe in-memory cache of access tokens, keyed by (database, backend, settings)."""

    def __init__(self):
        self._tokens = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._tokens.get(key)

    def put(self, key, token):
        with self._lock:
            self._tokens[key] = token

    def drop(self, key, token=None):
        """Forget the token of ``key`` (only if it is still ``token`` when one is given)."""
        with self._lock:
            if token is None or self._tokens.get(key) is token:
                self._tokens.pop(key, None)

    def clear(self):
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()


def token_error(vendor, response, hint) -> AuthError:
    """The AuthError for a refused token request, with the server's words and what to do."""
    return AuthError(
        f"{vendor} refused to issue an access token (HTTP {response.status_code}): "
        f"{remote_error_message(response)}. {hint}",
        http_status=response.status_code,
    )


def request_token(http, path, form, *, vendor, hint, basic_auth=None) -> dict:
    """POST a form to a token endpoint and return its JSON.

    Refusals (400/401/403) become AuthError (the backend's credentials are wrong: jobs wait),
    5xx and network errors stay transient (the queue retries).
    """
    headers = {"Accept": "application/json"}
    if basic_auth:
        import base64

        raw = f"{basic_auth[0]}:{basic_auth[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
    # Asking for a token twice is harmless, except an authorization code (single use).
    response = http.post(
        path,
        data=form,
        headers=headers,
        expected={200, 400, 401, 403},
        idempotent=form.get("grant_type") != "authorization_code",
    )
    if response.status_code != 200:
        raise token_error(vendor, response, hint)
    try:
        data = response.json()
    except ValueError:
        raise TransientError(
            f"{vendor}'s token endpoint answered HTTP 200 with a body that is not JSON: "
            "the job will be retried.",
            http_status=200,
        ) from None
    if not isinstance(data, dict) or not data.get("access_token"):
        raise TransientError(
            f"{vendor}'s token endpoint answered without an access_token: the job will be retried.",
            http_status=200,
        )
    for name in ("access_token", "refresh_token"):
        if data.get(name):
            SECRETS.register(data[name])
    return data


class CachedTokenAuth(AuthProvider):
    """Bearer auth backed by the token cache; subclasses implement ``_fetch() -> Token``."""

    def __init__(self, cache_key, cache=TOKENS, on_token=None):
        self.cache_key = cache_key
        self.cache = cache
        self.on_token = on_token  # called with each new Token (persist a rotated refresh token)
        self._token = None

    def token(self) -> Token:
        token = self._token or self.cache.get(self.cache_key)
        if token is None or not token.fresh():
            token = self._new_token()
        self._token = token
        return token

    def _new_token(self) -> Token:
        token = self._fetch()
        self.cache.put(self.cache_key, token)
        if self.on_token:
            self.on_token(token)
        return token

    def apply(self, headers):
        headers["Authorization"] = f"Bearer {self.token().access_token}"

    def refresh(self):
        """Called once on a 401: the cached token was rejected, get a new one."""
        self.cache.drop(self.cache_key, self._token)
        self._token = self._new_token()

    def _fetch(self) -> Token:  # pragma: no cover - abstract
        raise NotImplementedError
