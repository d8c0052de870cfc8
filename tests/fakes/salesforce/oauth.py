"""Token endpoint (JWT bearer, client credentials, refresh token, authorization code), authorize redirect, identity."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import _OAuthError
from .schema import _GRANTS, _JWT_MAX_LIFETIME, _JWT_SKEW, _LOGIN_HOSTS


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OAuthMixin:
    """OAuth 2.0 of the fake org."""

    # Auth configuration --------------------------------------------------------------------------

    @staticmethod
    def generate_key_pair() -> tuple[bytes, bytes]:
        """A fresh RSA 2048 key pair ``(private PKCS8 PEM, public PEM)`` for JWT tests."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return private_pem, public_pem

    @staticmethod
    def sign_jwt(private_pem: bytes, claims: dict) -> str:
        """A compact RS256 JWT, for tests that need an assertion without a client."""
        key = serialization.load_pem_private_key(private_pem, password=None)
        header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims).encode())
        signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{_b64url(signature)}"

    def trust_public_key(self, public_pem: bytes) -> None:
        """Accept JWT assertions signed by this key (a public key or X.509 certificate PEM)."""
        if b"BEGIN CERTIFICATE" in public_pem:
            key = x509.load_pem_x509_certificate(public_pem).public_key()
        else:
            key = serialization.load_pem_public_key(public_pem)
        self._trusted_keys.append(key)

    def issue_refresh_token(self) -> str:
        """A valid refresh token, as if a user had gone through the authorization-code flow."""
        token = f"5Aep{secrets.token_urlsafe(40)}"
        with self._lock:
            self._refresh_tokens.add(token)
        return token

    def issue_access_token(self) -> str:
        """A valid access token without a token request (for tests of the data endpoints)."""
        token = f"{self.org_id}!AQ{secrets.token_urlsafe(48)}"
        with self._lock:
            self._access_tokens.add(token)
        return token

    # OAuth endpoints -----------------------------------------------------------------------------

    def _handle_token(self, request):
        params = dict(request.query)
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({name: values[-1] for name, values in form.items()})
        with self._lock:
            self.token_requests += 1
            try:
                flow = _GRANTS.get(params.get("grant_type", ""))
                if flow is None or flow not in self.enabled_flows:
                    raise _OAuthError("unsupported_grant_type", "grant type not supported")
                body = getattr(self, f"_grant_{flow}")(params, request.headers)
            except _OAuthError as error:
                return 400, {}, {"error": error.error, "error_description": error.description}
        return 200, {"Cache-Control": "no-store"}, body

    def _client_auth(self, params, headers):
        """Client id and secret from the form, or from HTTP Basic authentication."""
        client_id, secret = params.get("client_id"), params.get("client_secret")
        authorization = headers.get("Authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except ValueError:
                decoded = ":"
            client_id, _sep, secret = decoded.partition(":")
        return client_id, secret

    def _grant_jwt(self, params, headers):
        try:
            header_part, claims_part, signature_part = params.get("assertion", "").split(".")
            header = json.loads(_b64url_decode(header_part))
            claims = json.loads(_b64url_decode(claims_part))
            signature = _b64url_decode(signature_part)
        except ValueError as error:
            raise _OAuthError("invalid_grant", "invalid assertion") from error
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _OAuthError("invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            raise _OAuthError("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        signed = f"{header_part}.{claims_part}".encode()
        if not any(self._verifies(key, signature, signed) for key in self._trusted_keys):
            raise _OAuthError("invalid_grant", "invalid assertion")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        allowed = {self.url, *_LOGIN_HOSTS}
        if not any(isinstance(aud, str) and aud.rstrip("/") in allowed for aud in audiences):
            raise _OAuthError("invalid_grant", "audience is invalid")
        if (claims.get("prn") or claims.get("sub")) != self.username:
            raise _OAuthError("invalid_grant", "user hasn't approved this consumer")
        expires, now = claims.get("exp"), time.time()
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise _OAuthError("invalid_grant", "invalid assertion")
        # Salesforce reports an exp in milliseconds (far "future") as an expired code too.
        if not now <= expires <= now + _JWT_MAX_LIFETIME + _JWT_SKEW:
            raise _OAuthError("invalid_grant", "expired authorization code")
        return self._token_response()

    @staticmethod
    def _verifies(key, signature, signed):
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def _grant_client_credentials(self, params, headers):
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id or secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        return self._token_response()

    def _grant_refresh_token(self, params, headers):
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret and secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        if params.get("refresh_token") not in self._refresh_tokens:
            raise _OAuthError("invalid_grant", "expired access/refresh token")
        return self._token_response()

    def _grant_authorization_code(self, params, headers):
        redirect_uri = self._codes.pop(params.get("code"), None)  # single use, even on failure
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        if redirect_uri is None:
            raise _OAuthError("invalid_grant", "expired authorization code")
        if params.get("redirect_uri") != redirect_uri:
            raise _OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        return self._token_response(refresh_token=self.issue_refresh_token())

    def _token_response(self, refresh_token=None):
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{self.org_id}/{self.user_id}"
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        body = {
            "access_token": self.issue_access_token(),
            "instance_url": self.url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "refresh_token api" if refresh_token else "api",
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        return body

    def _handle_authorize(self, request):
        """Auto-approve: redirect straight back with a single-use code and the caller's state."""
        query = request.query
        page = {"Content-Type": "text/html; charset=utf-8"}
        if query.get("client_id") != self.client_id:
            return 400, page, "<html><body>error=invalid_client_id: client identifier invalid"
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            return 400, page, "<html><body>error=redirect_uri_mismatch"
        separator = "&" if "?" in redirect_uri else "?"
        if query.get("response_type") != "code":
            params = {"error": "unsupported_response_type", "error_description": "response type"}
        else:
            params = {"code": f"aPrx{secrets.token_urlsafe(32)}"}
            with self._lock:
                self._codes[params["code"]] = redirect_uri
        if "state" in query:
            params["state"] = query["state"]
        return 302, {"Location": redirect_uri + separator + urlencode(params)}, ""

    def _handle_identity(self, request):
        if not self._token_valid(request.headers):
            return 403, {}, "Bad_OAuth_Token"
        org_id, user_id = request.match[1], request.match[2]
        if (org_id, user_id) != (self.org_id, self.user_id):
            return 404, {}, "Bad_Id"
        return (
            200,
            {},
            {
                "id": f"{self.url}/id/{org_id}/{user_id}",
                "asserted_user": True,
                "user_id": user_id,
                "organization_id": org_id,
                "username": self.username,
                "nick_name": "integration",
                "display_name": "Integration User",
                "email": self.username,
                "active": True,
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": 0,
                "urls": {"rest": f"{self.url}/services/data/v{{version}}/"},
            },
        )

    def _token_valid(self, headers):
        scheme, _sep, token = headers.get("Authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "oauth") and token.strip() in self._access_tokens
