"""RS256 JSON Web Tokens for Salesforce's OAuth 2.0 JWT bearer flow.

A compact JWS is three base64url parts joined by dots; signing it takes a few lines on
``cryptography`` (already pinned by Odoo 18), so no JWT library is added.
"""

import base64
import json
import time

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce accepts an assertion whose exp is at most 3 minutes ahead, in seconds.
MAX_LIFETIME = 180


class InvalidPrivateKey(ValueError):
    """The configured private key is not an unencrypted RSA key in PEM format."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_private_key(pem):
    """Load an RSA private key from PEM text; raise InvalidPrivateKey with a useful message."""
    if isinstance(pem, str):
        pem = pem.strip().encode("utf-8")
    try:
        key = serialization.load_pem_private_key(pem, password=None, backend=default_backend())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidPrivateKey(
            "The private key is not an unencrypted PEM private key "
            f"({type(exc).__name__}): paste the key file that starts with "
            "'-----BEGIN PRIVATE KEY-----' (or 'BEGIN RSA PRIVATE KEY')."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidPrivateKey("The private key must be an RSA key (JWT RS256).")
    return key


def encode_rs256(claims: dict, private_key_pem) -> str:
    """Return the compact RS256 JWT of ``claims``."""
    key = load_private_key(private_key_pem)
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url(signature)}"


def salesforce_assertion(client_id, username, audience, private_key_pem, now=None) -> str:
    """The assertion Salesforce expects: iss = consumer key, sub = username, exp in seconds."""
    now = int(now if now is not None else time.time())
    claims = {"iss": client_id, "sub": username, "aud": audience, "exp": now + MAX_LIFETIME}
    return encode_rs256(claims, private_key_pem)
