"""OAuth: authorize redirect, token endpoint (authorization code, refresh token), token info; bearer checks."""

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode

from .errors import HubSpotError, _OAuthError
from .schema import _AUTH_MESSAGE


class OAuthMixin:
    """HubSpot OAuth and the bearer check of API calls."""

    def issue_refresh_token(self, scopes=("crm.objects.deals.read", "crm.objects.deals.write")):
        """A refresh token as if an admin had connected the app (tests of the refresh flow)."""
        with self._lock:
            token = f"fake-hs-refresh-issued-{uuid.uuid4().hex}"
            self._refresh_tokens[token] = list(scopes)
            return token

    def _oauth(self, handler):
        def respond(request):
            with self._lock:
                try:
                    return handler(request, *request.match.groups())
                except _OAuthError as error:
                    return 400, {}, error.body

        return respond

    def _authenticate(self, request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token == self.private_app_token:
            return
        issued = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if issued is None:
            raise HubSpotError(401, _AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        now = self.clock()
        if issued["expired"] or now >= issued["expires_at"]:
            ago = max(0, int((now - issued["expires_at"]).total_seconds()))
            message = (
                f"The OAuth token used to make this call expired {ago} second(s) ago. "
                "Refresh it with the refresh token."
            )
            raise HubSpotError(401, message, "EXPIRED_AUTHENTICATION")

    def _authorize(self, request):
        query = request.query
        if query.get("client_id") != self.client_id:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_id")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise _OAuthError("BAD_REDIRECT_URI", "missing redirect_uri")
        code = f"fake-hs-code-{next(self._token_serial)}-{uuid.uuid4().hex[:12]}"
        self._codes[code] = {"redirect_uri": redirect_uri, "scopes": query.get("scope", "").split()}
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}, None

    def _token(self, request):
        self.token_requests += 1
        if "json" in request.headers.get("Content-Type", ""):
            try:
                form = {key: str(value) for key, value in (request.json() or {}).items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        if form.get("client_id") != self.client_id:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_id")
        if form.get("client_secret") != self.client_secret:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._codes.get(form.get("code", ""))
            if grant is None:
                raise _OAuthError("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                raise _OAuthError(
                    "BAD_REDIRECT_URI", "redirect_uri does not match initial auth code URL"
                )
            del self._codes[form["code"]]  # single use
            scopes = grant["scopes"]
        elif grant_type == "refresh_token":
            scopes = self._refresh_tokens.get(form.get("refresh_token", ""))
            if scopes is None:
                raise _OAuthError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        else:
            raise _OAuthError("BAD_GRANT_TYPE", f"unsupported grant_type {grant_type!r}")
        serial = next(self._token_serial)
        access_token = f"fake-hs-access-{serial}-{uuid.uuid4().hex}"
        refresh_token = f"fake-hs-refresh-{serial}-{uuid.uuid4().hex}"
        self._refresh_tokens[refresh_token] = scopes  # older refresh tokens stay valid
        expires_at = self.clock() + timedelta(seconds=self.access_token_ttl)
        self._access_tokens[access_token] = {
            "expires_at": expires_at,
            "expired": False,
            "scopes": scopes,
        }
        return (
            200,
            {},
            {
                "token_type": "bearer",
                "refresh_token": refresh_token,
                "access_token": access_token,
                "expires_in": self.access_token_ttl,
            },
        )

    def _token_info(self, request, token):
        issued = self._access_tokens.get(token)
        remaining = 0 if issued is None else (issued["expires_at"] - self.clock()).total_seconds()
        if issued is None or issued["expired"] or remaining <= 0:
            return (
                404,
                {},
                {
                    "status": "error",
                    "message": "Token not found or expired",
                    "correlationId": str(uuid.uuid4()),
                },
            )
        return (
            200,
            {},
            {
                "token": token,
                "user": "fake.user@example.com",
                "hub_domain": "fake-portal.hubspot.com",
                "scopes": issued["scopes"],
                "hub_id": self.portal_id,
                "app_id": self.app_id,
                "expires_in": int(remaining),
                "user_id": 45678,
                "token_type": "access",
            },
        )
