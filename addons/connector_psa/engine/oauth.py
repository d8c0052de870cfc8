"""OAuth 2.0 for the PSA tools: the authorization URL, the token calls, a refreshing auth.

Harvest (id.getharvest.com) issues access tokens with ``expires_in`` and a refresh token;
Kantata (app.mavenlink.com) documents access tokens that do not expire and no refresh grant, but
if its token answer ever carries ``refresh_token``/``expires_in`` they are used the same way.
Nothing here stores anything: ``on_token`` hands every new token to the caller (the Odoo backend
keeps it in the connector vault), including a rotated refresh token.
"""

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from odoo.addons.connector_base.engine.errors import AuthError, TransientError
from odoo.addons.connector_base.engine.http_client import AuthProvider, remote_error_message
from odoo.addons.connector_base.engine.redaction import SECRETS

from .transport import decode_json

EXPIRY_MARGIN = 60.0  # renew a token this many seconds before it expires

HARVEST_ID_URL = "https://id.getharvest.com"
HARVEST_AUTHORIZE_PATH = "/oauth2/authorize"
HARVEST_TOKEN_PATH = "/api/v2/oauth2/token"
KANTATA_APP_URL = "https://app.mavenlink.com"
KANTATA_AUTHORIZE_PATH = "/oauth/authorize"
KANTATA_TOKEN_PATH = "/oauth/token"


@dataclass
class OAuthToken:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds (storable); None: does not expire
    raw: dict = field(default_factory=dict, repr=False)

    def fresh(self, now=None) -> bool:
        if self.expires_at is None:
            return True
        return (now if now is not None else time.time()) < self.expires_at - EXPIRY_MARGIN


def authorize_url(base_url, path, *, client_id, redirect_uri, state) -> str:
    """Where the Connect button sends the user (``response_type=code``)."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base_url.rstrip('/')}{path}?{query}"


def request_token(token_http, path, form, *, vendor, hint, clock=time.time) -> OAuthToken:
    """POST a form to a token endpoint; refusals are AuthError, 5xx/malformed are transient."""
    response = token_http.request(
        "POST",
        path,
        data=form,
        headers={"Accept": "application/json"},
        expected={200, 400, 401, 403},
        # An authorization code is single use: never send it twice.
        idempotent=form.get("grant_type") != "authorization_code",
    )
    if response.status_code != 200:
        raise AuthError(
            f"{vendor} refused to issue an access token (HTTP {response.status_code}): "
            f"{remote_error_message(response)}. {hint}",
            http_status=response.status_code,
        )
    data = decode_json(response, vendor)
    if not isinstance(data, dict) or not data.get("access_token"):
        raise TransientError(
            f"{vendor}'s token endpoint answered without an access_token: the job will be retried.",
            http_status=200,
        )
    for name in ("access_token", "refresh_token"):
        if data.get(name):
            SECRETS.register(data[name])
    expires_in = data.get("expires_in")
    return OAuthToken(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=clock() + float(expires_in) if expires_in not in (None, "") else None,
        raw={k: v for k, v in data.items() if k not in ("access_token", "refresh_token")},
    )


def exchange_code(
    token_http, path, *, client_id, client_secret, code, redirect_uri, vendor, clock=time.time
) -> OAuthToken:
    """Turn the code the user came back with into tokens (the end of Connect)."""
    return request_token(
        token_http,
        path,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
        },
        vendor=vendor,
        hint="Click Connect again; check the app's client id, secret and redirect URL.",
        clock=clock,
    )


def refresh_access_token(
    token_http, path, *, client_id, client_secret, refresh_token, vendor, clock=time.time
) -> OAuthToken:
    token = request_token(
        token_http,
        path,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        vendor=vendor,
        hint="The refresh token was revoked or the app's credentials changed: click Connect on "
        "the backend again.",
        clock=clock,
    )
    if not token.refresh_token:  # not rotated: the old one stays valid
        token.refresh_token = refresh_token
    return token


class RefreshingTokenAuth(AuthProvider):
    """Bearer auth from a stored OAuth token, renewed before expiry and once on HTTP 401."""

    def __init__(
        self,
        token_http,
        token_path,
        *,
        client_id,
        client_secret,
        vendor,
        access_token=None,
        refresh_token=None,
        expires_at=None,
        on_token=None,
        clock=time.time,
    ):
        self.token_http = token_http
        self.token_path = token_path
        self.client_id = client_id
        self.client_secret = client_secret
        self.vendor = vendor
        self.on_token = on_token
        self.clock = clock
        self._lock = threading.Lock()
        self.token = OAuthToken(access_token, refresh_token, expires_at) if access_token else None
        self._refresh_token = refresh_token
        for secret in (access_token, refresh_token):
            if secret:
                SECRETS.register(secret)

    def __repr__(self):
        return f"<RefreshingTokenAuth {self.vendor} ***>"

    def apply(self, headers) -> None:
        with self._lock:
            if self.token is None or not self.token.fresh(self.clock()):
                self._renew("no valid access token")
            headers["Authorization"] = f"Bearer {self.token.access_token}"

    def refresh(self) -> None:
        """Called once by HttpClient on HTTP 401: the access token was rejected."""
        with self._lock:
            self._renew("the access token was rejected (HTTP 401)")

    def _renew(self, why) -> None:
        if not self._refresh_token:
            raise AuthError(
                f"{self.vendor}: {why} and there is no refresh token to renew it. Click Connect "
                "on the backend to authorize the app again.",
                http_status=401,
            )
        self.token = refresh_access_token(
            self.token_http,
            self.token_path,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self._refresh_token,
            vendor=self.vendor,
            clock=self.clock,
        )
        self._refresh_token = self.token.refresh_token
        if self.on_token:
            self.on_token(self.token)
