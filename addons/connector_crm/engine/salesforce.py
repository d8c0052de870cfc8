"""Salesforce REST client: OAuth flows, SOQL with paging, deleted records, collection updates.

Contract: ../shared/reference/external-apis.md, section 1. Every data URL is built from the
``instance_url`` of the latest token response; ``nextRecordsUrl`` is relative to it.
"""

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError
from odoo.addons.connector_base.engine.http_client import host_of, parse_json, remote_error_message

from .jwt_bearer import JWT_GRANT_TYPE, InvalidPrivateKey, salesforce_assertion
from .oauth import TOKENS, CachedTokenAuth, Token, request_token

FLOW_JWT = "jwt"
FLOW_CLIENT_CREDENTIALS = "client_credentials"
FLOW_WEB_SERVER = "web_server"
COLLECTION_LIMIT = 200
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
PRODUCTION_LOGIN = "https://login.salesforce.com"
# Salesforce answers 403 with this code when the org's daily API request limit is used up.
LIMIT_CODE = "REQUEST_LIMIT_EXCEEDED"
LIMIT_RETRY_AFTER = 3600.0


def classify_error(response):
    """Salesforce's error knowledge for connector_base's HTTP client (its ``classify_error``
    hook): the daily request limit is a transient error retried in an hour, not an auth one."""
    if response.status_code == 403 and LIMIT_CODE in (response.text or ""):
        return TransientError(
            f"{host_of(response.url)} reports its daily API request limit is exhausted "
            f"({LIMIT_CODE}): {remote_error_message(response)}. The job will be retried in an "
            "hour; raise the remote API limit or reduce the synchronisation volume.",
            retry_after=LIMIT_RETRY_AFTER,
            http_status=response.status_code,
        )
    return None


@dataclass
class SalesforceSettings:
    flow: str
    login_url: str
    client_id: str
    client_secret: str | None = None
    username: str | None = None
    private_key: str | None = None
    refresh_token: str | None = None
    api_version: str = "62.0"


def jwt_audience(login_url: str) -> str:
    """Salesforce wants login/test.salesforce.com as audience; a My Domain host is its own."""
    url = login_url.rstrip("/")
    if "test.salesforce.com" in url or ".sandbox.my.salesforce.com" in url:
        return "https://test.salesforce.com"
    if url.endswith("salesforce.com"):
        return PRODUCTION_LOGIN
    return url


class SalesforceAuth(CachedTokenAuth):
    """Access tokens from the JWT bearer, client credentials or refresh-token flow."""

    def __init__(self, settings: SalesforceSettings, token_http, cache_key, cache=TOKENS, **kw):
        super().__init__(cache_key, cache=cache, **kw)
        self.settings = settings
        self.token_http = token_http  # HttpClient on the login host, without auth

    def _fetch(self) -> Token:
        s = self.settings
        if not s.client_id:
            raise AuthError("No consumer key (client id) is set: set it on the backend.")
        basic = None
        if s.flow == FLOW_JWT:
            if not (s.username and s.private_key):
                raise AuthError(
                    "The JWT bearer flow needs the integration user's username and the private "
                    "key of the connected app's certificate: set both on the backend."
                )
            try:
                assertion = salesforce_assertion(
                    s.client_id, s.username, jwt_audience(s.login_url), s.private_key
                )
            except InvalidPrivateKey as exc:
                raise AuthError(str(exc)) from None
            form = {"grant_type": JWT_GRANT_TYPE, "assertion": assertion}
            hint = (
                "Check the consumer key, the username, that the certificate uploaded to the "
                "connected app matches the private key and that the user is pre-authorized "
                "(Manage > Profiles or Permission Sets), then test the connection."
            )
        elif s.flow == FLOW_CLIENT_CREDENTIALS:
            if not s.client_secret:
                raise AuthError("The client credentials flow needs the consumer secret.")
            form = {"grant_type": "client_credentials"}
            basic = (s.client_id, s.client_secret)
            hint = (
                "Check the consumer key and secret, that the app enables the client "
                "credentials flow with a Run As user, and that the token URL is the My Domain "
                "host, then test the connection."
            )
        elif s.flow == FLOW_WEB_SERVER:
            if not s.refresh_token:
                raise AuthError(
                    "The backend is not connected yet: click Connect on the backend and log in "
                    "to Salesforce."
                )
            form = {"grant_type": "refresh_token", "refresh_token": s.refresh_token}
            form["client_id"] = s.client_id
            if s.client_secret:
                form["client_secret"] = s.client_secret
            hint = "The refresh token was revoked or expired: click Connect on the backend again."
        else:
            raise AuthError(f"Unknown Salesforce authentication flow {s.flow!r}.")
        data = request_token(
            self.token_http,
            "/services/oauth2/token",
            form,
            vendor="Salesforce",
            hint=hint,
            basic_auth=basic,
        )
        if not data.get("instance_url"):
            raise AuthError("Salesforce's token response has no instance_url.")
        return Token(
            access_token=data["access_token"],
            instance_url=data["instance_url"].rstrip("/"),
            identity_url=data.get("id"),
            refresh_token=data.get("refresh_token"),
            raw={key: data[key] for key in ("id", "issued_at", "scope") if key in data},
        )


def exchange_code(token_http, settings: SalesforceSettings, code, redirect_uri) -> Token:
    """Authorization-code step of the web-server flow (the Connect button's callback)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.client_id,
    }
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    data = request_token(
        token_http,
        "/services/oauth2/token",
        form,
        vendor="Salesforce",
        hint="Click Connect again; check the consumer key, secret and callback URL of the app.",
    )
    return Token(
        access_token=data["access_token"],
        instance_url=(data.get("instance_url") or "").rstrip("/") or None,
        identity_url=data.get("id"),
        refresh_token=data.get("refresh_token"),
    )


def soql_datetime(value: datetime) -> str:
    """SOQL datetime literal (unquoted, UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_string(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_datetime(value) -> datetime | None:
    """Parse Salesforce timestamps ('2024-05-31T10:00:00.000+0000') to naive UTC."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+0000")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            parsed = datetime.strptime(text.replace("+00:00", "+0000"), fmt)
        except ValueError:
            continue
        return parsed.astimezone(UTC).replace(tzinfo=None)
    raise ValueError(f"not a Salesforce timestamp: {value!r}")


def iso_param(value: datetime) -> str:
    """Datetime query parameter for the deleted/updated endpoints."""
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class SalesforceClient:
    """Data calls on the instance; ``on_limits(used, max)`` hears every Sforce-Limit-Info."""

    def __init__(self, http, auth: SalesforceAuth, api_version="62.0", on_limits=None):
        self.http = http  # HttpClient with ``auth``; URLs are passed absolute
        if getattr(http, "classify_error", None) is None:
            http.classify_error = classify_error
        self.auth = auth
        self.api_version = str(api_version).lstrip("v")
        self.on_limits = on_limits
        self.api_usage = None

    # Plumbing --------------------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        return self.auth.token().instance_url

    def data_url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/services/"):
            return self.instance_url + path
        return f"{self.instance_url}/services/data/v{self.api_version}/{path.lstrip('/')}"

    def request(self, method, path, **kwargs):
        # The connector only reads and sets values: sending a call twice is harmless.
        kwargs.setdefault("idempotent", True)
        response = self.http.request(method, self.data_url(path), **kwargs)
        self._note_limits(response)
        return response

    def _note_limits(self, response):
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info") or "")
        if match:
            self.api_usage = (int(match[1]), int(match[2]))
            if self.on_limits:
                self.on_limits(*self.api_usage)

    def json(self, method, path, **kwargs):
        return parse_json(self.request(method, path, **kwargs))

    # Calls -----------------------------------------------------------------------------------

    def identity(self) -> dict:
        token = self.auth.token()
        if not token.identity_url:
            return {}
        return parse_json(self.http.get(token.identity_url))

    def limits(self) -> dict:
        return self.json("GET", "limits")

    def query(self, soql: str, *, include_deleted=False, batch_size=None):
        """Yield the records of a SOQL query, following nextRecordsUrl page by page."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        resource = "queryAll" if include_deleted else "query"
        page = self.json("GET", f"{resource}?{urlencode({'q': soql})}", headers=headers)
        while True:
            if not isinstance(page, dict) or "records" not in page:
                raise BusinessError(
                    "Salesforce answered a query without 'records': the API version set on "
                    "the backend may be wrong."
                )
            yield from page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            page = self.json("GET", page["nextRecordsUrl"], headers=headers)

    def get(self, sobject, record_id, expected=None):
        response = self.request("GET", f"sobjects/{sobject}/{record_id}", expected=expected)
        return response if expected else parse_json(response)

    def deleted(self, sobject, start: datetime, end: datetime) -> dict:
        params = urlencode({"start": iso_param(start), "end": iso_param(end)})
        return self.json("GET", f"sobjects/{sobject}/deleted/?{params}")

    def update_records(self, records: list[dict], all_or_none=False) -> list[dict]:
        """Update records by Id through sObject Collections, 200 per call.

        ``records``: ``{"attributes": {"type": ...}, "id": ..., field: value}``. Returns one
        result per record, in order: ``{"id", "success", "errors"}``.
        """
        results = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start : start + COLLECTION_LIMIT]
            answer = self.json(
                "PATCH",
                "composite/sobjects",
                json={"allOrNone": all_or_none, "records": chunk},
            )
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise BusinessError(
                    "Salesforce answered a collection update with an unexpected body: "
                    f"{str(answer)[:200]}"
                )
            results.extend(answer)
        return results


def limit_ratio(usage) -> float | None:
    if not usage or not usage[1]:
        return None
    return usage[0] / usage[1]


def elapsed_ms(started) -> int:
    return int((time.monotonic() - started) * 1000)
