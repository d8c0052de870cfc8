"""The fake org: every part of the API put together on a FakeHttpServer."""

import re
import threading
from datetime import UTC, datetime

from tests.fakes.http_fake import FakeHttpServer

from .api import ApiMixin
from .composite import CompositeMixin
from .data import DataMixin
from .oauth import OAuthMixin
from .query import QueryMixin
from .schema import (
    _API_PATH,
    _CHILDREN,
    _CUSTOM_FIELDS,
    _ID_PREFIXES,
    _SETUP_STAMP,
    _STANDARD_FIELDS,
    _SYSTEM_FIELDS,
    DEFAULT_STAGES,
)
from .seed import SeedMixin
from .store import StoreMixin
from .switches import SwitchesMixin
from .writes import WritesMixin


class FakeSalesforce(
    OAuthMixin,
    SwitchesMixin,
    ApiMixin,
    QueryMixin,
    WritesMixin,
    CompositeMixin,
    StoreMixin,
    DataMixin,
    SeedMixin,
):
    """An in-memory Salesforce org behind the REST API, on 127.0.0.1.

    ``url`` is at once the login host, the ``instance_url`` and the identity host. Every
    ``/services/data/vNN.0/...`` call needs a Bearer token from the token endpoint (or
    ``issue_access_token()``), counts in ``api_usage`` and answers ``Sforce-Limit-Info``.
    """

    def __init__(
        self,
        *,
        api_version="62.0",
        client_id="fake-client-id",
        client_secret="fake-client-secret",
        username="integration@example.com",
        org_id="00Dfake000000001",
        user_id="005fake000000001",
        page_size=2000,
        child_page_size=200,
        port=0,
    ):
        self.api_version = api_version
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.org_id = org_id
        self.user_id = user_id
        self.page_size = page_size
        # Sub-query results (an opportunity's line items) come in batches of this size, the
        # rest behind the relationship's own nextRecordsUrl.
        self.child_page_size = child_page_size
        self.server = FakeHttpServer(port=port)

        # Auth and limits
        self.enabled_flows = {"jwt", "client_credentials", "refresh_token", "authorization_code"}
        self.token_requests = 0
        self.api_usage = 0
        self.api_limit = 100000
        self._trusted_keys = []
        self._access_tokens = set()
        self._refresh_tokens = set()
        self._codes = {}  # authorization code -> redirect_uri
        self._expire_countdown = None
        self._limit_exceeded = 0

        # Behaviour switches
        self.upsert_204 = False  # API versions before 46.0 answered an upsert update with 204
        self.reject_fields = set()
        self.earliest_deleted_available = None
        self.clock = lambda: datetime.now(UTC)  # stamps of writes; tests may replace it

        # Data
        self.writes = []  # (method, sobject, id, fields) of every write through the API
        self._lock = threading.RLock()
        self._counter = 0
        self._last_stamp = None
        self._live = {name: {} for name in _ID_PREFIXES}
        self._deleted = {name: {} for name in _ID_PREFIXES}
        self._deleted_log = []  # (sobject, id, deletedDate as datetime)
        self._fields = {}  # sobject -> {lowercase name: canonical name}
        self._custom_types = {}  # (sobject, field) -> type declared through add_field
        for sobject in _ID_PREFIXES:
            names = _SYSTEM_FIELDS.split()
            names += _STANDARD_FIELDS[sobject].split() + _CUSTOM_FIELDS.get(sobject, "").split()
            self._fields[sobject] = {name.lower(): name for name in names}
        self._index = {}  # (child, reference field) -> {parent id: {child id: None}}
        for relations in _CHILDREN.values():
            for child, reference in relations.values():
                self._index[(child, reference)] = {}
        self._journal = None  # undo steps while an all-or-none request runs
        self._cursors = {}
        self._cursor_counter = 0

        self.stages = [
            {
                "Id": self._new_id("OpportunityStage"),
                "ApiName": name,
                "MasterLabel": name,
                "IsActive": True,
                "IsClosed": closed,
                "IsWon": won,
                "DefaultProbability": probability,
                "ForecastCategoryName": forecast_name,
                "ForecastCategory": forecast,
                "SortOrder": position,
            }
            for position, (name, closed, won, probability, forecast_name, forecast) in enumerate(
                DEFAULT_STAGES, start=1
            )
        ]
        # The org's own setup records predate everything, so that a test may set ``clock`` to
        # any moment before its first write.
        stamp = _SETUP_STAMP
        self._raw_set(
            "User",
            {
                "Id": user_id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                "Username": username,
                "Name": "Integration User",
                "FirstName": "Integration",
                "LastName": "User",
                "Email": username,
                "Alias": "integ",
                "IsActive": True,
            },
        )
        self.standard_pricebook_id = self._new_id("Pricebook2")
        self._raw_set(
            "Pricebook2",
            {
                "Id": self.standard_pricebook_id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                "Name": "Standard Price Book",
                "IsActive": True,
                "IsStandard": True,
            },
        )
        self._register_routes()

    # Lifecycle -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the fake: login host, ``instance_url`` and identity host at once."""
        return self.server.url

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _register_routes(self):
        route = self.server.route
        route("POST", "/services/oauth2/token", self._handle_token)
        route("GET", "/services/oauth2/authorize", self._handle_authorize)
        route("GET", re.compile(r"/id/([^/]+)/([^/]+)"), self._handle_identity)
        route("GET", re.compile(r"/services/data/?"), self._handle_versions)
        route("*", _API_PATH, self._handle_api)
