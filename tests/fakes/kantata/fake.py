"""The fake Kantata OX server: lifecycle, OAuth bearer tokens, the response envelope, switches.

Contract: ``../shared/reference/external-apis.md`` section 4, ``psa-and-intercompany.md`` section 4
and developer.kantata.com. API paths are those of ``https://api.mavenlink.com/api/v1`` (with or
without ``.json``); OAuth (``/oauth/authorize``, ``/oauth/token``) is served by the same server.
Every answer is the documented envelope: ``count``, ``meta {count, page_count, page_number,
page_size}``, ``results [{key, id}]`` in order, and one id-keyed object per type, with
side-loaded associations (``include=``). Ids are strings. ``page``/``per_page`` (default 20, max
200; more is clamped) or ``limit``/``offset``. Errors are ``{"errors": [{type, message, field}]}``;
429 has no Retry-After. Access tokens do not expire (as documented) unless ``token_ttl`` is set.

    with FakeKantata() as kantata:
        kantata.seed_demo()
        entries = requests.get(f"{kantata.url}/api/v1/time_entries.json",
                               headers=kantata.headers()).json()
"""

import math
import re
import threading
from datetime import UTC, datetime, timedelta

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.psa_switches import PsaSwitches, truncated_json

from .lines import LineRoutes
from .oauth import OAuthRoutes
from .routes import ApiRoutes
from .scenarios import Scenarios
from .seed import Seeding
from .store import INCLUDE_ONLY, INCLUDES, KantataStore

API = "/api/v1"
ID = r"(\d+)"  # an id in a route path; route names show it as {id}
MAX_PER_PAGE = 200
REFERENCE_SUBJECTS = {
    "time_entries": "TimeEntry",
    "expenses": "Expense",
    "workspaces": "Workspace",
    "stories": "Story",
    "users": "User",
    "billing_milestones": "BillingMilestone",
    "participations": "Participation",
}
DEFAULT_PER_PAGE = 20


class KantataError(Exception):
    """An error answer in Kantata's shape."""

    def __init__(self, status, message, error_type="system", field=None, headers=None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error = {"type": error_type, "message": message}
        if field:
            error["field"] = field
        self.body = {"errors": [error]}


class FakeKantata(ApiRoutes, LineRoutes, OAuthRoutes, Seeding, Scenarios):
    """Kantata OX API v1 on 127.0.0.1 with the switches connector tests need."""

    token_ttl = None  # seconds; None: tokens never expire (documented). [U] when set
    issue_refresh_tokens = False  # [U]: the docs describe no refresh grant
    rate_limit = None  # (max requests, per seconds): enforce a limit ([U]: limits not public)
    reject_per_page_over_max = False  # True: per_page > 200 answers 400 instead of clamping
    ids_require_include = True  # relation ids only with include=, as documented

    def __init__(
        self,
        *,
        client_id="fake-kantata-client",
        client_secret="fake-kantata-secret",
        api_token="fake-kantata-token",
        port=0,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_token = api_token
        self.server = FakeHttpServer(port=port)
        self.switches = PsaSwitches()
        self._clock = lambda: datetime.now(UTC)
        self.store = KantataStore(lambda: self._clock())
        self._lock = threading.RLock()
        self._tokens: dict[str, dict] = {}
        self._refresh_tokens: dict[str, int] = {}
        self._codes: dict[str, dict] = {}
        self._window = None
        self._routes: list[tuple[str, str, re.Pattern]] = []
        self.owner = self.add_user("Api Owner", "api.owner@example.com", admin=True)
        self._tokens[api_token] = {"user_id": self.owner, "expires_at": None, "revoked": False}
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
        """Host of both the API (``/api/v1``) and OAuth (``/oauth``) paths."""
        return self.server.url

    @property
    def api_url(self) -> str:
        return f"{self.server.url}{API}"

    @property
    def clock(self):
        return self._clock

    @clock.setter
    def clock(self, value):
        self._clock = value

    def now(self) -> datetime:
        return self.store.now()

    # Test controls ---------------------------------------------------------------------------

    def headers(self, token=None) -> dict:
        return {"Authorization": f"Bearer {token or self.api_token}"}

    def add_token(self, token, user_id) -> str:
        """An access token of another user (e.g. a non-administrator)."""
        with self._lock:
            self._tokens[token] = {"user_id": user_id, "expires_at": None, "revoked": False}
            return token

    def revoke_tokens(self) -> None:
        """Every access token answers 401 from now on (the user revoked the app)."""
        with self._lock:
            for token in self._tokens.values():
                token["revoked"] = True

    def rate_limit_next(self, n=1, endpoint=None) -> None:
        """The next ``n`` API requests answer 429 (no Retry-After, as documented)."""
        self.switches.fail_next(n, 429, endpoint=endpoint)

    def requests_to(self, endpoint) -> int:
        """Requests received for ``endpoint`` (e.g. "GET /time_entries"), failed ones too."""
        return self.endpoint_counts()[endpoint]

    def endpoint_counts(self) -> dict:
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
            pattern = re.compile(rf"{API}{path}(?:\.json)?" if kind == "api" else path)
            name = f"{method} {path.replace(ID, '{id}')}"
            self._routes.append((name, method, pattern))
            wrap = self._api if kind == "api" else self._plain
            self.server.route(method, pattern, wrap(name, handler))

    def _plain(self, name, handler):
        def respond(request):
            with self._lock:
                try:
                    return handler(request, *request.match.groups())
                except KantataError as error:
                    return error.status, error.headers, error.body

        return respond

    def _api(self, name, handler):
        def respond(request):
            slow = self.switches.take_slow(name)
            if slow:
                self.switches.stopping.wait(slow)
            with self._lock:
                self.switches.record(name)
                try:
                    failure = self.switches.take_failure(name)
                    if failure:
                        status, _retry_after, message = failure  # Kantata sends no Retry-After
                        kind = "rate_limit" if status == 429 else "system"
                        text = message or (
                            "Too many requests: retry your request after a small delay."
                            if status == 429
                            else f"fake failure (HTTP {status})"
                        )
                        raise KantataError(status, text, kind)
                    caller = self._authenticate(request)
                    self._throttle()
                    status, body = handler(request, caller, *request.match.groups())
                except KantataError as error:
                    return error.status, error.headers, error.body
                if body is not None and self.switches.take_truncated(name):
                    return status, {"Content-Type": "application/json"}, truncated_json(body)
                return status, {}, body

        return respond

    def _authenticate(self, request) -> dict:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        issued = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        invalid = KantataError(401, "Invalid OAuth 2 Request", "oauth")
        if issued is None or issued["revoked"]:
            raise invalid
        if issued["expires_at"] is not None and self.now() >= issued["expires_at"]:
            raise invalid
        if self.switches.take_expiry():
            raise invalid
        user = self.store.users.get(issued["user_id"])
        if user is None:
            raise invalid
        return user

    def _throttle(self) -> None:
        if not self.rate_limit:
            return
        limit, seconds = self.rate_limit
        now = self.now()
        if self._window is None or now - self._window[0] >= timedelta(seconds=seconds):
            self._window = [now, 0]
        self._window[1] += 1
        if self._window[1] > limit:
            raise KantataError(
                429, "Too many requests: retry your request after a small delay.", "rate_limit"
            )

    def is_admin(self, caller) -> bool:
        membership = self.store.membership_of(caller["id"])
        return bool(membership and membership["is_administrator"])

    def require_admin(self, caller, what) -> None:
        if not self.is_admin(caller):
            raise KantataError(403, f"Only Account Administrators can {what}.", "authorization")

    # Envelope --------------------------------------------------------------------------------

    @staticmethod
    def _includes(request) -> list[str]:
        return [name for name in request.query.get("include", "").split(",") if name]

    def _paging(self, request) -> tuple[int, int]:
        """(offset, page size) from page/per_page, or limit/offset (which override them)."""
        query = request.query

        def integer(name, default):
            value = query.get(name, "")
            if value == "":
                return default
            if not value.isdigit():
                raise KantataError(400, f"{name} must be a positive integer", "system", name)
            return int(value)

        if "limit" in query or "offset" in query:
            size = integer("limit", DEFAULT_PER_PAGE)
            return integer("offset", 0), min(max(size, 1), MAX_PER_PAGE)
        size = integer("per_page", DEFAULT_PER_PAGE)
        if size > MAX_PER_PAGE and self.reject_per_page_over_max:
            raise KantataError(400, f"per_page cannot exceed {MAX_PER_PAGE}", "system", "per_page")
        size = min(max(size, 1), MAX_PER_PAGE)
        page = max(integer("page", 1), 1)
        return (page - 1) * size, size

    def envelope(self, request, collection, records, *, paged=True, status=200):
        """``(status, body)`` of the envelope over ``records`` (already filtered and sorted)."""
        includes = self._includes(request)
        total = len(records)
        if paged:
            offset, size = self._paging(request)
            chunk = records[offset : offset + size]
            page_number = offset // size + 1
            if chunk and self.switches.take_empty_page():
                chunk = []
        else:
            chunk, size, page_number = records, max(total, 1), 1
        body = {
            "count": total,
            "meta": {
                "count": total,
                "page_count": math.ceil(total / size),
                "page_number": page_number,
                "page_size": size,
            },
            "results": [{"key": collection, "id": str(r["id"])} for r in chunk],
            collection: {str(r["id"]): self.serialize(collection, r, includes) for r in chunk},
        }
        for name in includes:
            key, field = INCLUDES.get(collection, {}).get(name, (None, None))
            if key is None:
                continue
            loaded = body.setdefault(key, {})
            for record in chunk:
                value = self.serialize(collection, record, ("*",)).get(field)
                for related_id in value if isinstance(value, list) else [value]:
                    related = getattr(self.store, key).get(int(related_id)) if related_id else None
                    if related is not None:
                        loaded[str(related["id"])] = self.serialize(key, related, ())
        subject_type = REFERENCE_SUBJECTS.get(collection)
        if "external_references" in includes and subject_type:
            loaded = body.setdefault("external_references", {})
            for record in chunk:
                refs = [
                    r
                    for r in self.store.external_references.values()
                    if r["subject_type"] == subject_type and r["subject_id"] == record["id"]
                ]
                body[collection][str(record["id"])]["external_reference_ids"] = [
                    str(r["id"]) for r in refs
                ]
                for ref in refs:
                    loaded[str(ref["id"])] = self.serialize("external_references", ref, ())
        if paged:
            self.switches.run_page_hooks(f"GET {request.path}", page_number)
        return status, body

    def serialize(self, collection, record, includes) -> dict:
        out = self.store.to_json(collection, record)
        if self.ids_require_include and "*" not in includes:
            for field, include in INCLUDE_ONLY.get(collection, {}).items():
                if include not in includes:
                    out.pop(field, None)
        return out

    def single(self, request, collection, record, status=200):
        return self.envelope(request, collection, [record], paged=False, status=status)
