"""Harvest ID endpoints of the fake (a mixin of :class:`FakeHarvest`): OAuth2 and accounts.

Authorization code flow as Harvest documents it for server-side apps: the user is sent to
``/oauth2/authorize?client_id&response_type=code&redirect_uri&state``, comes back with ``code``,
and the app posts ``code``/``client_id``/``client_secret``/``grant_type=authorization_code``
(form-encoded) to ``/api/v2/oauth2/token``; the answer carries ``access_token``,
``refresh_token``, ``token_type`` and ``expires_in``. ``grant_type=refresh_token`` renews the
access token. ``/api/v2/accounts`` lists the accounts the token can use.
"""

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode


def _oauth_error(status, error, description):
    from .fake import HarvestError

    return HarvestError(status, description, error=error)


class OAuthRoutes:
    authorizing_user_id = None  # who clicks "Authorize" in the fake (default: the owner)

    def oauth_routes(self):
        return [
            ("GET", r"/oauth2/authorize", self._authorize),
            ("POST", r"/api/v2/oauth2/token", self._token),
            ("GET", r"/api/v2/accounts", self._accounts),
        ]

    def _authorize(self, request):
        query = request.query
        if query.get("client_id") != self.client_id:
            raise _oauth_error(400, "invalid_client", "Unknown client_id.")
        if query.get("response_type") != "code":
            raise _oauth_error(400, "unsupported_response_type", "response_type must be code.")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise _oauth_error(400, "invalid_request", "redirect_uri is required.")
        code = f"fake-harvest-code-{uuid.uuid4().hex[:16]}"
        self._codes[code] = {
            "redirect_uri": redirect_uri,
            "user_id": self.authorizing_user_id or self.owner["id"],
        }
        params = {"code": code, "scope": f"harvest:{self.account_id}"}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}, None

    def _token(self, request):
        form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            raise _oauth_error(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None:
                raise _oauth_error(
                    400, "invalid_grant", "The authorization code is invalid, expired or used."
                )
            if form.get("redirect_uri") and form["redirect_uri"] != grant["redirect_uri"]:
                raise _oauth_error(400, "invalid_grant", "redirect_uri does not match.")
            user_id = grant["user_id"]
        elif grant_type == "refresh_token":
            user_id = self._refresh_tokens.get(form.get("refresh_token", ""))
            if user_id is None:
                raise _oauth_error(400, "invalid_grant", "The refresh token is invalid or revoked.")
        else:
            raise _oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}."
            )
        access_token = f"fake-harvest-access-{uuid.uuid4().hex}"
        refresh_token = f"fake-harvest-refresh-{uuid.uuid4().hex}"
        self._refresh_tokens[refresh_token] = user_id
        self._tokens[access_token] = {
            "user_id": user_id,
            "expires_at": self.now() + timedelta(seconds=self.access_token_ttl),
            "expired": False,
        }
        return (
            200,
            {},
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "token_type": "bearer",
                "expires_in": self.access_token_ttl,
            },
        )

    def _accounts(self, request):
        token = self._token_of(request)
        user_id = self._pats.get(token)
        issued = self._tokens.get(token)
        if (
            user_id is None
            and issued
            and not issued["expired"]
            and self.now() < issued["expires_at"]
        ):
            user_id = issued["user_id"]
        if user_id is None:
            raise _oauth_error(401, "invalid_token", "The access token is invalid or expired.")
        user = self.store.users[user_id]
        return (
            200,
            {},
            {
                "user": {
                    "id": user["id"],
                    "first_name": user["first_name"],
                    "last_name": user["last_name"],
                    "email": user["email"],
                },
                "accounts": [
                    {"id": self.account_id, "name": self.account_name, "product": "harvest"},
                    {
                        "id": self.account_id + 1,
                        "name": f"{self.account_name} Forecast",
                        "product": "forecast",
                    },
                ],
            },
        )
