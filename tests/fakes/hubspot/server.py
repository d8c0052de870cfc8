"""The fake portal: every API area put together on a FakeHttpServer."""

import collections
import itertools
import re
import threading
from datetime import UTC, datetime

from tests.fakes.http_fake import FakeHttpServer

from .associations import AssociationsMixin
from .data import DataMixin
from .errors import HubSpotError
from .oauth import OAuthMixin
from .objects import ObjectsMixin
from .schema import OBJECT_TYPES, _default_pipelines
from .search import SearchMixin
from .seed import SeedMixin
from .store import StoreMixin, _Record
from .switches import SwitchesMixin
from .webhooks import WebhooksMixin


class FakeHubSpot(
    SwitchesMixin,
    DataMixin,
    SeedMixin,
    WebhooksMixin,
    StoreMixin,
    ObjectsMixin,
    SearchMixin,
    AssociationsMixin,
    OAuthMixin,
):
    """HubSpot CRM API on 127.0.0.1: objects, search, batch, associations, OAuth and webhooks."""

    access_token_ttl = 1800
    search_cap = 10_000  # search answers 400 once ``after`` reaches it (tests lower it)
    rate_limit_max = 190  # per 10 s window, reported in X-HubSpot-RateLimit-Max
    daily_limit = 650_000
    enforce_rate_limit = False  # True: calls beyond rate_limit_max in a window answer 429
    search_rate_limit = 5  # searches per second per account (HubSpot's documented limit)
    enforce_search_limit = False  # True: searches beyond search_rate_limit in a second get 429

    def __init__(
        self,
        *,
        portal_id=12345678,
        client_id="fake-hs-client",
        client_secret="fake-hs-secret",
        private_app_token="pat-na1-fake-token",
        path_prefix="/crm/v3",
        port=0,
    ):
        self.portal_id = portal_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.private_app_token = private_app_token
        self.path_prefix = path_prefix.rstrip("/")
        self.app_id = 987654
        self.server = FakeHttpServer(port=port)
        self.clock = lambda: datetime.now(UTC)
        self.batch_207 = False
        self.reject_properties: set[str] = set()
        self.writes: list[tuple[str, str, str, dict]] = []
        self.token_requests = 0
        self.pipelines = _default_pipelines()
        self.account = {
            "portalId": portal_id,
            "accountType": "STANDARD",
            "timeZone": "Europe/Paris",
            "companyCurrency": "EUR",
            "additionalCurrencies": ["USD"],
            "utcOffset": "+01:00",
            "utcOffsetMilliseconds": 3_600_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "eu1",
        }
        self._lock = threading.RLock()
        self._ids = itertools.count(10_001)
        self._event_ids = itertools.count(100_000_001)
        self._subscription_ids: dict[str, int] = {}
        self._objects: dict[str, dict[str, _Record]] = {name: {} for name in OBJECT_TYPES}
        self._links: dict[tuple[str, str], dict[str, dict[str, None]]] = {}
        self._last_stamp = None
        self._codes: dict[str, dict] = {}  # auth code -> redirect_uri, scopes
        self._refresh_tokens: dict[str, list[str]] = {}  # refresh token -> scopes
        self._access_tokens: dict[str, dict] = {}  # access token -> expires_at, expired, scopes
        self._token_serial = itertools.count(1)
        self._forced_429: list[tuple[object, str]] = []
        self._window_start = None
        self._window_calls = 0
        self._daily_calls = 0
        self._search_calls = collections.deque()  # moments of the searches of the last second
        self.search_rejections = 0
        self._search_failures = []  # fail_searches: None passes, a status fails
        self._register_routes()

    # Lifecycle -------------------------------------------------------------------------------

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        """Base of the API and of the OAuth endpoints (the api.hubapi.com equivalent)."""
        return self.server.url

    def _register_routes(self) -> None:
        prefix = re.escape(self.path_prefix)
        objects = f"{prefix}/objects/([^/]+)"
        api_routes = [
            ("GET", f"{objects}", self._list),
            ("GET", f"{objects}/([^/]+)", self._read),
            ("POST", f"{objects}", self._create_one),
            ("PATCH", f"{objects}/([^/]+)", self._update_one),
            ("DELETE", f"{objects}/([^/]+)", self._delete_one),
            ("POST", f"{objects}/search", self._search),
            ("POST", f"{objects}/batch/(read|update|upsert|create)", self._batch),
            ("GET", f"{prefix}/pipelines/([^/]+)", self._pipelines),
            ("GET", f"{prefix}/pipelines/([^/]+)/([^/]+)", self._pipeline),
            ("POST", r"/crm/v4/associations/([^/]+)/([^/]+)/batch/read", self._v4_batch_read),
            ("GET", r"/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)", self._v4_list),
            ("GET", r"/account-info/v3/details", self._account_details),
            ("GET", r"/account-info/v3/api-usage/daily/private-apps", self._api_usage),
        ]
        for method, pattern, handler in api_routes:
            self.server.route(method, re.compile(pattern), self._api(handler))
        oauth_routes = [
            ("GET", r"/oauth/authorize", self._authorize),
            ("POST", r"/oauth/v(?:1|3)/token", self._token),
            ("GET", r"/oauth/v1/access-tokens/([^/]+)", self._token_info),
        ]
        for method, pattern, handler in oauth_routes:
            self.server.route(method, re.compile(pattern), self._oauth(handler))

    def _api(self, handler):
        """Wrap an API handler: rate-limit headers, auth, forced 429, HubSpot error bodies."""

        def respond(request):
            with self._lock:
                headers = self._count_call()
                try:
                    self._authenticate(request)
                    search = request.method == "POST" and request.path.endswith("/search")
                    self._throttle(headers, search=search)
                    status, body = handler(request, *request.match.groups())
                except HubSpotError as error:
                    status, body = error.status, error.body
                    headers.update(error.headers)
                return status, headers, body

        return respond
