"""HubSpot CRM client: private-app or OAuth tokens, search with keyset windows, batch calls.

Contract: ../shared/reference/external-apis.md, section 2. All property values are strings.
"""

import base64
import hashlib
import hmac
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from odoo.addons.connector_base.engine.backoff import parse_retry_after
from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError
from odoo.addons.connector_base.engine.http_client import BearerTokenAuth, remote_error_message
from odoo.addons.connector_base.engine.signatures import SignatureError

from .answers import json_body, json_with_retries
from .oauth import TOKENS, CachedTokenAuth, Token, request_token

FLOW_PRIVATE_APP = "private_app"
FLOW_OAUTH = "oauth"
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot answers 400 when paging past 10,000 results of one search
BATCH_READ = 100
BATCH_UPDATE = 100
ASSOCIATIONS_BATCH = 1000
SIGNATURE_MAX_AGE_MS = 300_000
# Rate limits (../shared/reference/external-apis.md 2.4 and 2.7): the search endpoints allow
# about 4-5 requests per second per account, apart from the 10-second burst limit of every
# call. A 429 says which window was exceeded (policyName) and usually no Retry-After: wait past
# that window before sending again.
SEARCH_RATE = 4.0  # requests per second, the default of the backend's search rate
RATE_WINDOWS = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}
SEARCH_WINDOW = 1.0
DAILY_RETRY_AFTER = 3600.0  # the daily limit resets at midnight in the portal's time zone
RATE_LIMIT_WAITS = 3  # waits in place on 429 before the queue's backoff takes over
MAX_RATE_LIMIT_WAIT = 15.0  # seconds; a longer wait goes back to the queue
SUCCESS = frozenset({200, 201, 204, 207})

# Percent-escapes HubSpot decodes in the URI before signing (v3), per its docs.
_DECODED_ESCAPES = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C")
_DECODED_ESCAPES += ("%3B",)


@dataclass
class HubSpotSettings:
    flow: str
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    private_app_token: str | None = None
    path_prefix: str = "/crm/v3"


class HubSpotOAuth(CachedTokenAuth):
    """OAuth access tokens refreshed ahead of ``expires_in`` (HubSpot: ~30 minutes)."""

    def __init__(self, settings: HubSpotSettings, token_http, cache_key, cache=TOKENS, **kw):
        super().__init__(cache_key, cache=cache, **kw)
        self.settings = settings
        self.token_http = token_http

    def _fetch(self) -> Token:
        s = self.settings
        if not s.refresh_token:
            raise AuthError(
                "The backend is not connected to HubSpot yet: click Connect on the backend."
            )
        if not (s.client_id and s.client_secret):
            raise AuthError("HubSpot OAuth needs the app's client id and client secret.")
        data = request_token(
            self.token_http,
            "/oauth/v1/token",
            {
                "grant_type": "refresh_token",
                "client_id": s.client_id,
                "client_secret": s.client_secret,
                "refresh_token": s.refresh_token,
            },
            vendor="HubSpot",
            hint="The refresh token was revoked or the app's credentials changed: click "
            "Connect on the backend again.",
        )
        expires_in = float(data.get("expires_in") or 1800)
        return Token(
            access_token=data["access_token"],
            expires_at=time.monotonic() + expires_in,
            refresh_token=data.get("refresh_token"),
        )


def hubspot_auth(settings: HubSpotSettings, token_http, cache_key, **kw):
    if settings.flow == FLOW_PRIVATE_APP:
        if not settings.private_app_token:
            raise AuthError("No private app access token is set: set it on the backend.")
        return BearerTokenAuth(settings.private_app_token)
    return HubSpotOAuth(settings, token_http, cache_key, **kw)


def exchange_code(token_http, settings: HubSpotSettings, code, redirect_uri) -> Token:
    data = request_token(
        token_http,
        "/oauth/v1/token",
        {
            "grant_type": "authorization_code",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        },
        vendor="HubSpot",
        hint="Click Connect again; check the app's client id, secret and redirect URL.",
    )
    return Token(
        access_token=data["access_token"],
        expires_at=time.monotonic() + float(data.get("expires_in") or 1800),
        refresh_token=data.get("refresh_token"),
    )


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def parse_datetime(value) -> datetime | None:
    """HubSpot timestamps: ISO strings ('2024-05-31T10:00:00.123Z') or epoch milliseconds."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC).replace(tzinfo=None)
    text = text.replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: some percent-escapes decoded (not the query's '?')."""
    for escape in _DECODED_ESCAPES:
        uri = uri.replace(escape, unquote(escape)).replace(escape.lower(), unquote(escape))
    return uri


def verify_signature_v3(
    secret, method, uri, body: bytes, headers, now_ms, max_age_ms=SIGNATURE_MAX_AGE_MS
) -> None:
    """Raise SignatureError unless X-HubSpot-Signature-v3 is valid and fresh."""
    if not secret:
        raise SignatureError(
            "No HubSpot client secret is set for webhook signatures: set it on the backend.",
            reason="missing",
        )
    lowered = {str(key).lower(): value for key, value in headers.items()}
    signature = lowered.get("x-hubspot-signature-v3")
    timestamp = lowered.get("x-hubspot-request-timestamp")
    if not signature or not timestamp:
        raise SignatureError(
            "The request has no X-HubSpot-Signature-v3 / X-HubSpot-Request-Timestamp header: "
            "only signature v3 is accepted.",
            reason="missing",
        )
    if not str(timestamp).strip().isdigit():
        raise SignatureError("X-HubSpot-Request-Timestamp is not milliseconds.", reason="malformed")
    age = now_ms - int(timestamp)
    if abs(age) > max_age_ms:
        raise SignatureError(
            f"The HubSpot webhook timestamp is {age // 1000}s old (limit {max_age_ms // 1000}s): "
            "a replayed or "
            "delayed request, or a clock problem (check NTP).",
            reason="stale",
        )
    source = method.upper().encode() + signed_uri(uri).encode() + body + str(timestamp).encode()
    expected = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.strip().encode()):
        raise SignatureError(
            "The HubSpot signature does not match: check the app's client secret on the backend "
            "and the backend's public URL (HubSpot signs the exact URL it calls).",
            reason="mismatch",
        )


class HubSpotClient:
    """CRM calls; ``on_rate(remaining, max)`` hears the X-HubSpot-RateLimit headers.

    ``search_limiter`` (a token bucket) paces the search calls below HubSpot's search limit, on
    top of the backend's general rate limit the HTTP client applies to every call. A 429 is
    waited out in place, past the window it names, a few times; then it goes to the queue as a
    transient error whose retry waits at least that window."""

    def __init__(self, http, path_prefix="/crm/v3", on_rate=None, search_limiter=None, sleep=None):
        self.http = http  # HttpClient on the API host with the bearer auth
        self.prefix = "/" + path_prefix.strip("/")
        self.on_rate = on_rate
        self.search_limiter = search_limiter
        self.sleep = sleep or time.sleep

    def request(self, method, path, *, search=False, **kwargs):
        # The connector only reads and sets values: sending a call twice is harmless.
        kwargs.setdefault("idempotent", True)
        expected = kwargs.pop("expected", None)
        waits = 0
        while True:
            if search and self.search_limiter is not None:
                self.search_limiter.acquire()
            response = self.http.request(
                method, path, expected=set(expected or SUCCESS) | {429}, **kwargs
            )
            if response.status_code != 429 or (expected and 429 in expected):
                break
            wait = self._rate_limit_wait(response, search, waits)
            waits += 1
            self.sleep(wait)
        remaining = response.headers.get("X-HubSpot-RateLimit-Daily-Remaining")
        if remaining is not None and self.on_rate:
            self.on_rate(remaining, response.headers.get("X-HubSpot-RateLimit-Daily"))
        return response

    def _rate_limit_wait(self, response, search, waits):
        """Seconds to wait before sending a rate-limited call again, or the TransientError
        that gives it to the queue (daily limit, long Retry-After, too many waits)."""
        try:
            body = response.json() or {}
        except ValueError:
            body = {}
        policy = str(body.get("policyName") or "") if isinstance(body, dict) else ""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        window = RATE_WINDOWS.get(policy) or (
            SEARCH_WINDOW if search else RATE_WINDOWS["TEN_SECONDLY_ROLLING"]
        )
        if retry_after is None:
            # Past the window, growing, with jitter so that runners do not come back together.
            retry_after = window * (1 + waits) + random.uniform(0, window / 4)
        what = "search" if search else "API"
        if policy == "DAILY":
            retry_after = max(retry_after, DAILY_RETRY_AFTER)
        elif retry_after <= MAX_RATE_LIMIT_WAIT and waits < RATE_LIMIT_WAITS:
            return retry_after
        raise TransientError(
            f"HubSpot rate-limits the {what} calls (HTTP 429, policy {policy or 'unknown'}): "
            f"{remote_error_message(response)}. The job will be retried in "
            f"{retry_after:.0f} s; if this is frequent, lower the backend's rate limit or search "
            "rate (other apps share the portal's limits).",
            retry_after=retry_after,
            http_status=429,
            details={"policy": policy, "url": response.url},
        )

    def json(self, method, path, **kwargs):
        return json_with_retries(
            lambda: self.request(method, path, **kwargs), "HubSpot", self.http, self.sleep
        )

    # Account ---------------------------------------------------------------------------------

    def account_details(self) -> dict:
        return self.json("GET", "/account-info/v3/details")

    def daily_usage(self) -> dict | None:
        """Private apps only; an OAuth token gets 403 here, which is not an error for us."""
        response = self.request(
            "GET", "/account-info/v3/api-usage/daily/private-apps", expected={200, 403, 404}
        )
        if response.status_code != 200:
            return None
        results = (json_body(response, "HubSpot") or {}).get("results") or []
        return results[0] if results else None

    def pipelines(self) -> list:
        return self.json("GET", f"{self.prefix}/pipelines/deals").get("results", [])

    # Objects ---------------------------------------------------------------------------------

    def get(self, object_type, object_id, properties=(), associations=()):
        params = {}
        if properties:
            params["properties"] = ",".join(properties)
        if associations:
            params["associations"] = ",".join(associations)
        response = self.request(
            "GET",
            f"{self.prefix}/objects/{object_type}/{object_id}",
            params=params,
            expected={200, 404},
        )
        return None if response.status_code == 404 else json_body(response, "HubSpot")

    def search(self, object_type, filters, properties, sort_property, after=0, limit=SEARCH_PAGE):
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": sort_property, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": limit,
            "after": str(after),
        }
        return self.json(
            "POST", f"{self.prefix}/objects/{object_type}/search", json=body, search=True
        )

    def search_page(
        self, object_type, stamp_property, cursor, properties, filters=(), limit=SEARCH_PAGE
    ):
        """One page of the records changed at or after ``cursor["start"]`` (epoch ms), oldest
        first: returns ``(records, next cursor or None when the search is exhausted)``.

        A keyset window: each page starts again at the last timestamp read (``GTE``), skipping
        the ids already read at that timestamp, so the search never pages towards HubSpot's
        10,000-result cap and the cursor can be kept between jobs (a pull resumes at the page
        it stopped at). ``after`` is used only while a whole page shares one timestamp.
        """
        start = int(cursor.get("start") or 0)
        after = int(cursor.get("after") or 0)
        seen = set(cursor.get("seen") or ())
        if after + limit > SEARCH_CAP:
            raise BusinessError(
                f"More than {SEARCH_CAP} HubSpot {object_type} share the modification time "
                f"{datetime.fromtimestamp(start / 1000, UTC):%Y-%m-%d %H:%M:%S.%f} UTC: a search "
                "cannot page through them. Move the stream's cursor past that moment (Resync "
                "from date) and import those records in smaller batches."
            )
        page = self.search(
            object_type,
            [{"propertyName": stamp_property, "operator": "GTE", "value": str(start)}, *filters],
            properties,
            stamp_property,
            after=after,
            limit=limit,
        )
        results = page.get("results") or []
        stamps = [self._stamp_ms(record, stamp_property, start) for record in results]
        records = [
            record
            for record, stamp in zip(results, stamps, strict=True)
            if not (stamp == start and str(record["id"]) in seen)
        ]
        more = bool(((page.get("paging") or {}).get("next") or {}).get("after"))
        if not results or not more:
            return records, None
        last = max(stamps)
        if last > start:
            at_last = [str(r["id"]) for r, s in zip(results, stamps, strict=True) if s == last]
            return records, {"start": last, "after": 0, "seen": at_last}
        # The whole page shares the window's timestamp: page on within it.
        return records, {
            "start": start,
            "after": after + len(results),
            "seen": sorted(seen | {str(r["id"]) for r in results}),
        }

    @staticmethod
    def _stamp_ms(record, stamp_property, default):
        stamp = parse_datetime((record.get("properties") or {}).get(stamp_property))
        return to_ms(stamp) if stamp is not None else default

    def modified_since(self, object_type, stamp_property, since_ms, properties, filters=()):
        """Every record changed at or after ``since_ms``, oldest first (``search_page`` until
        the search is exhausted)."""
        cursor = {"start": int(since_ms)}
        while cursor is not None:
            records, cursor = self.search_page(
                object_type, stamp_property, cursor, properties, filters
            )
            yield from records

    def batch_read(self, object_type, ids, properties):
        records = []
        ids = list(dict.fromkeys(str(i) for i in ids))
        for start in range(0, len(ids), BATCH_READ):
            answer = self.json(
                "POST",
                f"{self.prefix}/objects/{object_type}/batch/read",
                json={
                    "properties": list(properties),
                    "inputs": [{"id": i} for i in ids[start : start + BATCH_READ]],
                },
                expected={200, 207},  # 207: some ids no longer exist (deleted or archived)
            )
            records.extend(answer.get("results", []))
        return records

    def associations(self, from_type, to_type, ids) -> dict:
        """``{from id: [to ids]}`` through the v4 batch read (1,000 inputs per call)."""
        result = {}
        pending = [{"id": str(i)} for i in dict.fromkeys(ids)]
        while pending:
            chunk, pending = pending[:ASSOCIATIONS_BATCH], pending[ASSOCIATIONS_BATCH:]
            answer = self.json(
                "POST",
                f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                json={"inputs": chunk},
            )
            for item in answer.get("results", []):
                source = str(item["from"]["id"])
                result.setdefault(source, []).extend(str(to["toObjectId"]) for to in item["to"])
                after = ((item.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": source, "after": after})
        return result

    def batch_update(self, object_type, inputs) -> tuple[list, list]:
        """Update ``[{"id", "properties"}]`` 100 at a time; returns (results, errors)."""
        results, errors = [], []
        for start in range(0, len(inputs), BATCH_UPDATE):
            answer = self.json(
                "POST",
                f"{self.prefix}/objects/{object_type}/batch/update",
                json={"inputs": inputs[start : start + BATCH_UPDATE]},
                expected={200, 207},
            )
            results.extend(answer.get("results", []))
            errors.extend(answer.get("errors", []))
        return results, errors
