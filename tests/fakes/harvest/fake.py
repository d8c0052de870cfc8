"""The fake Harvest server: lifecycle, authentication, rate limit, paging and failure switches.

Contract: ``../shared/reference/external-apis.md`` section 3 and the Harvest API v2 docs
(help.getharvest.com/api-v2). Every API request needs ``Authorization: Bearer`` (a personal
access token or an OAuth access token), ``Harvest-Account-Id`` and a ``User-Agent`` (400 without
it); the query-string form (``access_token``, ``account_id``) is accepted too. The account allows
100 requests per 15 s per token (429 with ``Retry-After``). Lists page with ``links.next`` cursors
(``per_page`` 1-2000, 422 above). The Harvest ID endpoints (OAuth authorize/token, accounts) are
served by the same server (``id_url`` is ``url``). Time comes from ``clock``.

    with FakeHarvest() as harvest:
        harvest.seed_demo()
        headers = harvest.headers()
        entries = requests.get(f"{harvest.url}/v2/time_entries", headers=headers).json()
"""

import base64
import binascii
import json
import math
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.psa_switches import PsaSwitches, truncated_json

from .lines import LineRoutes
from .oauth import OAuthRoutes
from .routes import ApiRoutes
from .seed import Seeding
from .store import HarvestStore

MAX_PER_PAGE = 2000
ID = r"(\d+)"  # an id in a route path; route names show it as {id}
INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed or invalid for other reasons."
)


class HarvestError(Exception):
    """An error answer; ``body`` is what Harvest sends (shapes per the reference, [U])."""

    def __init__(self, status, message, *, error=None, headers=None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        if error:  # OAuth style, as on 401
            self.body = {"error": error, "error_description": message}
        else:
            self.body = {"message": message}


class FakeHarvest(ApiRoutes, LineRoutes, OAuthRoutes, Seeding):
    """Harvest API v2 and Harvest ID on 127.0.0.1, with the switches connector tests need."""

    rate_limit_max = 100
    rate_limit_window = 15  # seconds
    enforce_rate_limit = True
    access_token_ttl = 64799  # seconds; Harvest's documented example ([P])

    def __init__(
        self,
        *,
        account_id=123456,
        account_name="Demo Consultancy",
        personal_access_token="fake-harvest-pat",
        client_id="fake-harvest-client",
        client_secret="fake-harvest-secret",
        port=0,
    ):
        self.account_id = account_id
        self.account_name = account_name
        self.personal_access_token = personal_access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.server = FakeHttpServer(port=port)
        self.switches = PsaSwitches()
        self._clock = lambda: datetime.now(UTC)
        self.store = HarvestStore(lambda: self._clock())
        self._lock = threading.RLock()
        self._windows: dict[str, list] = {}  # token -> [window start, count]
        self._tokens: dict[str, dict] = {}  # access token -> user_id, expires_at, expired
        self._refresh_tokens: dict[str, int] = {}  # refresh token -> user_id
        self._codes: dict[str, dict] = {}
        self._routes: list[tuple[str, str, re.Pattern]] = []
        # The owner of the personal access token: an administrator (set by seed_demo or
        # add_token; tests create others to check what members may not do).
        self.owner = self.store.add_user(
            "Api", "Owner", "api.owner@example.com", access_roles=("administrator",)
        )
        self._pats = {personal_access_token: self.owner["id"]}
        self._register_routes()

    # Lifecycle -------------------------------------------------------------------------------

    def start(self):
        self.switches.stopping.clear()
        self.server.start()
        return self

    def stop(self):
        self.switches.stopping.set()
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        """The api.harvestapp.com equivalent (API paths start with /v2)."""
        return self.server.url

    @property
    def id_url(self) -> str:
        """The id.getharvest.com equivalent (OAuth and accounts): the same server."""
        return self.server.url

    @property
    def clock(self):
        return self._clock

    @clock.setter
    def clock(self, value):
        self._clock = value

    def now(self) -> datetime:
        return self.store.now()

    # Test controls ---------------------------------------------------------------------------

    def headers(self, token=None, *, account_id=None, user_agent="Tests (tests@example.com)"):
        """The three headers Harvest requires, for direct requests in tests."""
        return {
            "Authorization": f"Bearer {token or self.personal_access_token}",
            "Harvest-Account-Id": str(account_id or self.account_id),
            "User-Agent": user_agent,
        }

    def add_token(self, token, user_id) -> str:
        """A personal access token of another user (e.g. a member without admin rights)."""
        with self._lock:
            self._pats[token] = user_id
            return token

    def expire_tokens(self) -> None:
        """OAuth access tokens issued so far answer 401 from now on (PATs do not expire)."""
        with self._lock:
            for token in self._tokens.values():
                token["expired"] = True

    def issue_refresh_token(self, user_id=None) -> str:
        """A refresh token as if a user had connected the app (tests of the refresh flow)."""
        with self._lock:
            token = f"fake-harvest-refresh-{uuid.uuid4().hex}"
            self._refresh_tokens[token] = user_id or self.owner["id"]
            return token

    def rate_limit_next(self, n=1, retry_after=2, endpoint=None) -> None:
        """The next ``n`` API requests answer 429 with ``Retry-After: retry_after``."""
        self.switches.fail_next(n, 429, endpoint=endpoint, retry_after=retry_after)

    def requests_to(self, endpoint) -> int:
        """Requests that reached ``endpoint`` (e.g. "GET /v2/time_entries"), failed ones too."""
        return self.endpoint_counts()[endpoint]

    def endpoint_counts(self) -> dict:
        """Requests per route name over everything the server received (server failures too)."""
        counts = dict.fromkeys((name for name, _method, _pattern in self._routes), 0)
        for request in list(self.server.requests):
            for name, method, pattern in self._routes:
                if method == request.method and pattern.fullmatch(request.path):
                    counts[name] += 1
                    break
        return counts

    # HTTP plumbing ---------------------------------------------------------------------------

    def _register_routes(self) -> None:
        for method, path, handler, kind in self.route_table():
            pattern = re.compile(path)
            name = f"{method} {path.replace(ID, '{id}')}"
            self._routes.append((name, method, pattern))
            wrap = self._api if kind == "api" else self._plain
            self.server.route(method, pattern, wrap(name, handler, kind))

    def _plain(self, name, handler, kind):
        def respond(request):
            with self._lock:
                try:
                    return handler(request, *request.match.groups())
                except HarvestError as error:
                    return error.status, error.headers, error.body

        return respond

    def _api(self, name, handler, kind):
        def respond(request):
            slow = self.switches.take_slow(name)
            if slow:
                self.switches.stopping.wait(slow)
            with self._lock:
                self.switches.record(name)
                try:
                    failure = self.switches.take_failure(name)
                    if failure:
                        raise self._failure(*failure)
                    caller = self._authenticate(request)
                    self._throttle(request)
                    status, headers, body = handler(request, caller, *request.match.groups())
                except HarvestError as error:
                    return error.status, error.headers, error.body
                if body is not None and self.switches.take_truncated(name):
                    return (
                        status,
                        {**headers, "Content-Type": "application/json"},
                        truncated_json(body),
                    )
                return status, headers, body

        return respond

    @staticmethod
    def _failure(status, retry_after, message):
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        if status == 429:
            message = message or f"API rate limit exceeded. Retry after {retry_after} seconds."
        return HarvestError(status, message or f"fake failure (HTTP {status})", headers=headers)

    def _token_of(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            return token.strip()
        return request.query.get("access_token")

    def _authenticate(self, request) -> dict:
        if not request.headers.get("User-Agent", "").strip():
            raise HarvestError(
                400,
                "Missing User-Agent header: send your application's name and a contact URL or "
                "e-mail, e.g. 'MyApp (yourname@example.com)'.",
            )
        token = self._token_of(request)
        user_id = self._pats.get(token)
        if user_id is None:
            issued = self._tokens.get(token)
            if issued is None or issued["expired"] or self.now() >= issued["expires_at"]:
                raise HarvestError(401, INVALID_TOKEN, error="invalid_token")
            user_id = issued["user_id"]
        if self.switches.take_expiry():
            raise HarvestError(401, INVALID_TOKEN, error="invalid_token")
        account = request.headers.get("Harvest-Account-Id") or request.query.get("account_id")
        if not account:
            raise HarvestError(
                401,
                "Missing Harvest-Account-Id header (or account_id parameter).",
                error="invalid_request",
            )
        if str(account) != str(self.account_id):
            raise HarvestError(403, f"You do not have access to account {account}.")
        user = self.store.users.get(user_id)
        if user is None or not user["is_active"]:
            raise HarvestError(401, INVALID_TOKEN, error="invalid_token")
        return user

    def _throttle(self, request) -> None:
        if not self.enforce_rate_limit:
            return
        token = self._token_of(request) or ""
        now = self.now()
        window = self._windows.get(token)
        if window is None or now - window[0] >= timedelta(seconds=self.rate_limit_window):
            window = self._windows[token] = [now, 0]
        window[1] += 1
        if window[1] > self.rate_limit_max:
            wait = window[0] + timedelta(seconds=self.rate_limit_window) - now
            retry_after = max(1, math.ceil(wait.total_seconds()))
            raise self._failure(429, retry_after, None)

    @staticmethod
    def require_admin(caller, what) -> None:
        if "administrator" not in caller["access_roles"]:
            raise HarvestError(
                403, f"You must be an Administrator to {what}: insufficient permissions."
            )

    @staticmethod
    def is_admin(caller) -> bool:
        return "administrator" in caller["access_roles"]

    # Paging ----------------------------------------------------------------------------------

    @staticmethod
    def _encode_cursor(after, nonce=None) -> str:
        payload = {"after": after}
        if nonce:
            payload["n"] = nonce
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor):
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            after = json.loads(raw)["after"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise HarvestError(422, f"The cursor {cursor!r} is not valid.") from None
        return None if after is None else tuple(after)

    def paginate(self, request, endpoint, key, records, sort_key, serialize) -> tuple:
        """One page of ``records`` in Harvest's pagination shape (cursor or deprecated page)."""
        per_page = request.query.get("per_page", str(MAX_PER_PAGE))
        if not per_page.isdigit() or not 1 <= int(per_page) <= MAX_PER_PAGE:
            raise HarvestError(
                422, f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page!r}"
            )
        per_page = int(per_page)
        ordered = sorted(records, key=sort_key)
        total = len(ordered)
        total_pages = max(1, math.ceil(total / per_page))
        cursor = request.query.get("cursor")
        if cursor:
            after = self._decode_cursor(cursor)
            remaining = [r for r in ordered if after is None or list(sort_key(r)) > list(after)]
            page = None
        else:
            page_text = request.query.get("page", "1")
            if not page_text.isdigit() or int(page_text) < 1:
                raise HarvestError(422, f"page must be a positive integer, got {page_text!r}")
            page = int(page_text)
            offset = min((page - 1) * per_page, total)
            remaining = ordered[offset:]
            after = sort_key(ordered[offset - 1]) if offset else None
        chunk = remaining[:per_page]
        more = len(remaining) > per_page
        nonce = uuid.uuid4().hex[:8] if self.switches.rotate_cursors else None
        if chunk and self.switches.take_empty_page():
            next_cursor = self._encode_cursor(list(after) if after else None, uuid.uuid4().hex[:8])
            chunk, more = [], True
        else:
            next_cursor = self._encode_cursor(list(sort_key(chunk[-1])), nonce) if more else None
        last = not more
        if page is None:  # cursor mode: page numbers only on the first and the last page
            number = total_pages if last else None
            next_page, previous_page = None, (total_pages - 1 if last and total_pages > 1 else None)
        else:
            number = page
            next_page = page + 1 if page < total_pages else None
            previous_page = page - 1 if page > 1 else None
        body = {
            key: [serialize(record) for record in chunk],
            "per_page": per_page,
            "total_pages": total_pages,
            "total_entries": total,
            "next_page": next_page,
            "previous_page": previous_page,
            "page": number,
            "links": self._links(request, per_page, total_pages, next_cursor, previous_page),
        }
        self.switches.run_page_hooks(endpoint, number)
        return 200, {}, body

    def _links(self, request, per_page, total_pages, next_cursor, previous_page) -> dict:
        params = {
            name: value
            for name, value in request.query.items()
            if name not in ("page", "cursor", "ref", "per_page")
        }

        def link(**extra):
            return f"{self.url}{request.path}?{urlencode({**params, **extra})}"

        return {
            "first": link(page=1, per_page=per_page, ref="first"),
            "next": link(cursor=next_cursor, per_page=per_page, ref="next_cursor")
            if next_cursor
            else None,
            "previous": link(page=previous_page, per_page=per_page, ref="previous")
            if previous_page
            else None,
            "last": link(page=total_pages, per_page=per_page, ref="last"),
        }
