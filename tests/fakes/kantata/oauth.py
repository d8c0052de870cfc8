"""Kantata's OAuth 2.0 endpoints in the fake (a mixin of :class:`FakeKantata`).

As documented (developer.kantata.com, "Obtaining tokens for users"): the user is sent to
``/oauth/authorize?client_id&response_type=code&redirect_uri``, comes back with ``code`` (or
``error=access_denied``), and the app exchanges it at ``POST /oauth/token`` with ``client_id``,
``client_secret``, ``grant_type=authorization_code``, ``code`` and ``redirect_uri``. Access
tokens do not expire; a revoked app makes them answer 401. Refresh tokens are not documented:
the fake only issues them (with ``expires_in``) when ``issue_refresh_tokens`` is set [U].
"""

import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode


def _oauth_error(status, error, description):
    from .fake import KantataError

    error_object = KantataError(status, description, "oauth")
    error_object.body = {"error": error, "error_description": description}
    return error_object


class OAuthRoutes:
    authorizing_user_id = None  # who clicks "Authorize" (default: the owner)
    deny_authorization = False  # True: the user refuses (redirect with error=access_denied)

    def oauth_routes(self):
        return [
            ("GET", r"/oauth/authorize", self._authorize),
            ("POST", r"/oauth/token", self._token),
        ]

    def _authorize(self, request):
        query = request.query
        if query.get("client_id") != self.client_id:
            raise _oauth_error(400, "invalid_client", "Unknown client_id.")
        if query.get("response_type") != "code" or not query.get("redirect_uri"):
            raise _oauth_error(
                400, "invalid_request", "response_type=code and redirect_uri are required."
            )
        redirect_uri = query["redirect_uri"]
        if self.deny_authorization:
            params = {
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied the request.",
            }
        else:
            code = f"fake-kantata-code-{uuid.uuid4().hex[:16]}"
            self._codes[code] = {
                "redirect_uri": redirect_uri,
                "user_id": self.authorizing_user_id or self.owner,
            }
            params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}, None

    def _token(self, request):
        if "json" in request.headers.get("Content-Type", ""):
            form = {k: str(v) for k, v in (json.loads(request.body or b"{}") or {}).items()}
        else:
            form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            raise _oauth_error(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                raise _oauth_error(
                    400, "invalid_grant", "The provided authorization grant is invalid."
                )
            user_id = grant["user_id"]
        elif grant_type == "refresh_token" and self.issue_refresh_tokens:
            user_id = self._refresh_tokens.get(form.get("refresh_token", ""))
            if user_id is None:
                raise _oauth_error(400, "invalid_grant", "The refresh token is invalid.")
        else:
            raise _oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}."
            )
        access_token = f"fake-kantata-access-{uuid.uuid4().hex}"
        expires_at = (self.now() + timedelta(seconds=self.token_ttl)) if self.token_ttl else None
        self._tokens[access_token] = {
            "user_id": user_id,
            "expires_at": expires_at,
            "revoked": False,
        }
        answer = {"access_token": access_token, "token_type": "bearer"}
        if self.issue_refresh_tokens:
            refresh_token = f"fake-kantata-refresh-{uuid.uuid4().hex}"
            self._refresh_tokens[refresh_token] = user_id
            answer["refresh_token"] = refresh_token
        if self.token_ttl:
            answer["expires_in"] = self.token_ttl
        return 200, {}, answer

    def issue_refresh_token(self, user_id=None) -> str:
        """A refresh token as if a user had connected (only meaningful with refresh tokens on)."""
        with self._lock:
            token = f"fake-kantata-refresh-{uuid.uuid4().hex}"
            self._refresh_tokens[token] = user_id or self.owner
            return token
